// Consumer builds are heavy processes on a small machine; the tests share one packed feed.
[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.MethodLevel)]
