using ModelShrink.Cli;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary>Where the engine finds ONNX Runtime's native library without looking in the NuGet cache.</summary>
[TestClass]
public sealed class OrtNativeLibraryTests
{
    [TestMethod]
    public void TheLibraryIsFoundFlatBesideASelfContainedEngineAndUnderRuntimesInAPortableOne()
    {
        using var flat = new TempDirectory();
        using var portable = new TempDirectory();
        using var without = new TempDirectory();
        File.WriteAllBytes(Path.Combine(flat.Path, OrtNativeFetch.LibraryFile), []);
        var native = Directory.CreateDirectory(Path.Combine(portable.Path, "runtimes", OrtNativeFetch.Platform, "native"));
        File.WriteAllBytes(Path.Combine(native.FullName, OrtNativeFetch.LibraryFile), []);

        Assert.IsTrue(OrtNativeLibrary.LiesIn(flat.Path), "a self-contained publish for one platform keeps it flat");
        Assert.IsTrue(OrtNativeLibrary.LiesIn(portable.Path));
        Assert.IsFalse(OrtNativeLibrary.LiesIn(without.Path), "the tool package ships without it: then the NuGet cache is asked");
    }
}
