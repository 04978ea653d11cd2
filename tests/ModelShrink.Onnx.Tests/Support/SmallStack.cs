using System.Runtime.ExceptionServices;

namespace ModelShrink.Onnx.Tests.Support;

/// <summary>
/// Runs work on a fresh thread with a small stack, so a reader that recursed once per nesting level
/// would overflow here rather than pass on a big test-host stack. Returns what the work threw and
/// the bytes that thread allocated.
/// </summary>
internal static class SmallStack
{
    public const int StackBytes = 512 * 1024;

    public static (Action Rethrow, long AllocatedBytes) Run(Action work)
    {
        Exception? thrown = null;
        long allocated = 0;
        var thread = new Thread(
            () =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    work();
                }
                catch (Exception e)
                {
                    thrown = e;
                }

                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            },
            StackBytes);
        thread.Start();
        thread.Join();
        return (() =>
        {
            if (thrown is not null)
            {
                ExceptionDispatchInfo.Throw(thrown);
            }
        }, allocated);
    }
}
