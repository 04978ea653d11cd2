using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.Tests.Support;

/// <summary>Checks the error contract: a coded <see cref="ModelShrinkException"/> naming the file, on one line.</summary>
internal static class DiagnosticAssert
{
    /// <summary>Runs <paramref name="action"/>, which must fail with <paramref name="code"/> about <paramref name="file"/>.</summary>
    public static ModelShrinkException Fails(string code, string file, Action action)
    {
        var e = Assert.ThrowsExactly<ModelShrinkException>(action);
        Assert.AreEqual(code, e.Diagnostic.Code, e.Message);
        Assert.AreEqual(file, e.Diagnostic.File, e.Message);
        Assert.AreEqual(DiagnosticSeverity.Error, e.Diagnostic.Severity);
        AssertOneLine(e.Diagnostic.Message);
        AssertOneLine(e.Message);
        Assert.StartsWith($"{file}: error {code}: ", e.Diagnostic.ToString());
        return e;
    }

    /// <summary>
    /// Like <see cref="Fails"/>, and also returns the bytes this thread allocated meanwhile, so
    /// hostile inputs can be shown not to make the reader allocate what the file claims.
    /// </summary>
    public static (ModelShrinkException Exception, long AllocatedBytes) FailsMeasured(string code, string file, Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(code, file, action);
        return (e, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void AssertOneLine(string text)
    {
        Assert.IsFalse(string.IsNullOrWhiteSpace(text), "the message is empty");
        Assert.IsFalse(text.Contains('\n') || text.Contains('\r'), $"not one line: {text}");
    }
}
