using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tests.Support;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

/// <summary>
/// Files that are not what they seem: special files as inputs or outputs, lengths past 32 bits,
/// folders where files belong, and models too large to keep inline. Codes are written out (not
/// ErrorCodes constants) so the catalogue's numbers are held too.
/// </summary>
[TestClass]
public sealed class HostileFileTests
{
    private const long MemoryBound = 64L << 20;

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public void FifoAsTheModelFailsWithMsh1015AtOnceInsteadOfWaitingForAWriter()
    {
        using var temp = new TempDirectory();
        var fifo = SpecialFiles.Fifo(temp.File("model.onnx"));

        // Run on another thread so a regression (the open blocking forever) fails the test, not the run.
        var load = Task.Run(() => DiagnosticAssert.Fails("MSH1015", fifo, () => ModelReader.Load(fifo)));

        Assert.IsTrue(load.Wait(TimeSpan.FromSeconds(10)), "loading a FIFO blocked");
        Assert.AreEqual("is a FIFO (named pipe), not a regular file; the model file must be a file on disk", load.Result.Diagnostic.Message);
    }

    [TestMethod]
    public void CharacterDeviceAsTheModelFailsWithMsh1015NotAsAnEmptyFile()
    {
        if (!File.Exists("/dev/zero"))
        {
            Assert.Inconclusive("no /dev/zero here");
        }

        var e = DiagnosticAssert.Fails("MSH1015", "/dev/zero", () => ModelReader.Load("/dev/zero"));

        Assert.AreEqual("is a character device, not a regular file; the model file must be a file on disk", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(0x1_0000_0000UL, DisplayName = "4 GB (reads as 0 in 32 bits)")]
    [DataRow(0x1_0000_0005UL, DisplayName = "4 GB + 5 (reads as 5)")]
    [DataRow(0x7_0000_0002UL, DisplayName = "28 GB + 2 (reads as 2)")]
    public void LengthOver32BitsFailsWithMsh1004InsteadOfReadingAsItsLowBits(ulong claimedLength)
    {
        // ir_version 7, then a graph whose 5-byte length has bits above 32; read as its low 32 bits
        // the graph would be empty (or 2-5 bytes long) and the rest would parse as model fields.
        using var temp = new TempDirectory();
        byte[] bytes = [.. WireBytes.VarintField(1, 7), .. WireBytes.Key(7, 2), .. WireBytes.Varint(claimedLength), .. WireBytes.StringField(2, "producer"), .. WireBytes.StringField(2, "g")];
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, bytes);

        var (e, allocated) = DiagnosticAssert.FailsMeasured("MSH1004", path, () => ModelReader.Load(path));

        Assert.StartsWith("model file is truncated: the length of the field at byte 3 runs past the end of its message", e.Diagnostic.Message);
        Assert.IsLessThan(MemoryBound, allocated);
    }

    [TestMethod]
    public void NestedLengthOver32BitsInsideANodeFailsWithMsh1004()
    {
        // The same overflow one level down (a node's name inside the graph), so the check follows the schema.
        using var temp = new TempDirectory();
        byte[] node = [.. WireBytes.Key(3, 2), .. WireBytes.Varint(0x1_0000_0000UL)];
        byte[] graph = [.. WireBytes.Key(1, 2), .. WireBytes.Varint((ulong)node.Length), .. node];
        byte[] bytes = [.. WireBytes.VarintField(1, 7), .. WireBytes.Key(7, 2), .. WireBytes.Varint((ulong)graph.Length), .. graph];
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, bytes);

        var e = DiagnosticAssert.Fails("MSH1004", path, () => ModelReader.Load(path));

        Assert.StartsWith("model file is truncated: the length of the field at byte 7 runs past the end of its message", e.Diagnostic.Message);
    }

    [TestMethod]
    public void ExternalDataThatIsAFolderSaysSoInsteadOfDoesNotExist()
    {
        using var model = new ExternalDataModel();
        File.Delete(model.DataPath);
        Directory.CreateDirectory(model.DataPath);

        var e = DiagnosticAssert.Fails("MSH1006", model.ModelPath, () => ModelReader.Load(model.ModelPath));

        Assert.AreEqual("external-data location 'model.onnx.data' is a folder, not a file", e.Diagnostic.Message);
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public void ExternalDataThatIsAFifoFailsWithMsh1015AtOnce()
    {
        using var model = new ExternalDataModel();
        File.Delete(model.DataPath);
        SpecialFiles.Fifo(model.DataPath);

        var load = Task.Run(() => DiagnosticAssert.Fails("MSH1015", model.ModelPath, () => ModelReader.Load(model.ModelPath)));

        Assert.IsTrue(load.Wait(TimeSpan.FromSeconds(10)), "loading external data from a FIFO blocked");
        Assert.AreEqual("external-data location 'model.onnx.data' is a FIFO (named pipe), not a regular file", load.Result.Diagnostic.Message);
    }

    [TestMethod]
    public void SavingOntoAFifoFailsWithMsh1016AndLeavesTheFifo()
    {
        using var temp = new TempDirectory();
        var fifo = SpecialFiles.Fifo(temp.File("out.onnx"));
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var e = DiagnosticAssert.Fails("MSH1016", fifo, () => ModelWriter.Save(model, fifo));

        Assert.Contains("is a FIFO (named pipe), not a regular file; it is never replaced", e.Diagnostic.Message);
        Assert.IsTrue(SpecialFiles.IsFifo(fifo), "the FIFO was replaced");
        CollectionAssert.AreEquivalent(new[] { fifo }, Directory.GetFileSystemEntries(temp.Path), "a temporary file was left behind");
    }

    [TestMethod]
    [DataRow("/dev/full", "MSH1016", DisplayName = "a character device")]
    [DataRow("/dev/null", "MSH1016", DisplayName = "the null device")]
    [DataRow("/proc/model.onnx", "MSH1020", DisplayName = "inside /proc")]
    [DataRow("/sys/model.onnx", "MSH1020", DisplayName = "inside /sys")]
    [DataRow("/dev/model.onnx", "MSH1020", DisplayName = "a new file in /dev")]
    public void OutputPathOnASpecialFileOrKernelFolderIsRefusedBeforeAnyWrite(string path, string code)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("Linux paths");
        }

        // Only the check runs here: a regression must never get as far as replacing /dev/null.
        var e = DiagnosticAssert.Fails(code, path, () => OutputPath.Check(path, "--output"));

        Assert.AreEqual("--output", e.Diagnostic.Setting);
    }

    [TestMethod]
    public void OutputPathChecksNameEachProblemWithItsOwnCode()
    {
        using var temp = new TempDirectory();
        var file = temp.File("a-file");
        File.WriteAllText(file, "x");

        Assert.AreEqual("MSH1017", Assert.ThrowsExactly<ModelShrinkException>(() => OutputPath.Check("", "--output")).Diagnostic.Code);
        Assert.AreEqual("MSH1018", Assert.ThrowsExactly<ModelShrinkException>(() => OutputPath.Check(temp.Path, "--output")).Diagnostic.Code);
        var underFile = Path.Combine(file, "model.onnx");
        var e = DiagnosticAssert.Fails("MSH1019", underFile, () => OutputPath.Check(underFile, "--output"));
        Assert.AreEqual($"the output's folder cannot be created: '{file}' is a file, not a folder", e.Diagnostic.Message);
        Assert.AreEqual(temp.File("new/model.onnx"), OutputPath.Check(temp.File("new/model.onnx"), "--output"));
    }

    [TestMethod]
    public void ModelPastTheInlineLimitIsWrittenWithExternalDataThatOnnxRuntimeLoads()
    {
        // The 2 GB limit scaled down (MaxInlineBytes) so the test stays small: three 256x256 float
        // weights (768 KB) against a 512 KB limit. The full-size path is build/bench-large-model.sh.
        using var temp = new TempDirectory();
        var path = temp.File("model.onnx");
        var model = GeneratedModels.MatMulChain(256, 3);

        var saved = ModelWriter.Save(model, path, new ModelSaveOptions { MaxInlineBytes = 512 << 10 });

        Assert.AreEqual(path + ".data", saved.ExternalDataPath);
        Assert.IsGreaterThanOrEqualTo(3L * 256 * 256 * 4, saved.ExternalDataBytes);
        Assert.IsLessThan(64L << 10, saved.ModelBytes, "the weights stayed inline");
        var reread = ModelReader.Load(path);
        Assert.IsTrue(reread.Graph.Initializers.All(v => v.Initializer!.External is not null));
        using var session = new InferenceSession(path);
        Assert.AreEqual(1, session.OutputNames.Count);
    }

    [TestMethod]
    public void ModelWithinTheInlineLimitStaysOneFile()
    {
        using var temp = new TempDirectory();
        var path = temp.File("model.onnx");

        var saved = ModelWriter.Save(GeneratedModels.MatMulChain(256, 3), path, new ModelSaveOptions { MaxInlineBytes = 1 << 20 });

        Assert.IsNull(saved.ExternalDataPath);
        Assert.AreEqual(0, saved.ExternalDataBytes);
        Assert.IsFalse(File.Exists(path + ".data"));
    }
}
