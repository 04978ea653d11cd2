using System.Text;
using Google.Protobuf;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tests.Support;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

/// <summary>
/// Every bad input fails with a coded <see cref="ModelShrinkException"/> that names the file, on one
/// line; hostile inputs also fail in bounded memory. (No timing asserts: speed lives in benchmarks.)
/// </summary>
[TestClass]
public sealed class BadInputTests
{
    private const long MemoryBound = 64L << 20;

    [TestMethod]
    public void EmptyFileFailsWithMsh1002()
    {
        using var temp = new TempDirectory();
        var path = Write(temp, []);

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelEmpty, path, () => ModelReader.Load(path));
        Assert.AreEqual("model file is empty", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(1, 2, DisplayName = "cut in half")]
    [DataRow(1, 100, DisplayName = "first 1%")]
    [DataRow(99, 100, DisplayName = "last 1% missing")]
    public void TruncatedFixtureFailsWithMsh1004(int numerator, int denominator)
    {
        using var temp = new TempDirectory();
        var full = File.ReadAllBytes(Fixtures.Model("digits-mlp"));
        var path = Write(temp, full[..(full.Length * numerator / denominator)]);

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelTruncated, path, () => ModelReader.Load(path));
        Assert.AreEqual("model file is truncated: a field's length runs past the end of the file", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("hello world, this is not a model\n")]
    [DataRow("{\"model\": \"digits-mlp\", \"format\": \"json\"}\n")]
    [DataRow("<?xml version=\"1.0\"?>\n<model/>\n")]
    [DataRow("pixel_0,pixel_1,label\n0.0,0.5,3\n")]
    [DataRow("name: digits-mlp\nopset: 13\ninputs: [input]\n")]
    [DataRow("a: 1\nb:  2\n")]
    [DataRow(": short\n")]
    public void TextFileFailsWithMsh1003(string text)
    {
        using var temp = new TempDirectory();
        var path = Write(temp, Encoding.UTF8.GetBytes(text));

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelNotOnnx, path, () => ModelReader.Load(path));
        Assert.StartsWith("not an ONNX model", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("89504E470D0A1A0A", DisplayName = "PNG signature alone")]
    [DataRow("89504E470D0A1A0A0000000D49484452000000080000000808060000002E3F3E1B", DisplayName = "PNG signature and IHDR chunk")]
    public void PngFileFailsWithMsh1003(string hex)
    {
        using var temp = new TempDirectory();
        var path = Write(temp, Convert.FromHexString(hex));

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelNotOnnx, path, () => ModelReader.Load(path));
        Assert.StartsWith("not an ONNX model", e.Diagnostic.Message);
    }

    [TestMethod]
    public void MissingFileFailsWithMsh1001()
    {
        using var temp = new TempDirectory();
        var path = temp.File("no-such-model.onnx");

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelNotFound, path, () => ModelReader.Load(path));
        Assert.AreEqual("model file not found", e.Diagnostic.Message);
    }

    [TestMethod]
    public void FolderGivenAsTheModelFailsWithMsh1001()
    {
        using var temp = new TempDirectory();

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelNotFound, temp.Path, () => ModelReader.Load(temp.Path));
        Assert.AreEqual("is a folder, not an ONNX model file", e.Diagnostic.Message);
    }

    [TestMethod]
    public void MissingExternalDataFileFailsWithMsh1006()
    {
        using var model = new ExternalDataModel();
        File.Delete(model.DataPath);

        var e = DiagnosticAssert.Fails(ErrorCodes.ExternalDataMissing, model.ModelPath, () => ModelReader.Load(model.ModelPath));
        Assert.AreEqual("external-data file 'model.onnx.data' does not exist next to the model", e.Diagnostic.Message);
        Assert.AreEqual($"tensor '{model.FirstExternalTensor}' external_data location", e.Diagnostic.Setting);
    }

    [TestMethod]
    public void ExternalDataMovedElsewhereInsideTheModelFolderStillLoads()
    {
        // The control for the hostile-path tests: the same rewrite, pointing at a valid copy that
        // stays inside the folder, loads and reads the right bytes.
        using var model = new ExternalDataModel();
        Directory.CreateDirectory(Path.Combine(model.ModelFolder, "weights"));
        File.Copy(model.DataPath, Path.Combine(model.ModelFolder, "weights", "copy.bin"));
        var expected = ModelReader.Load(model.ModelPath).Graph.Initializers[0].Initializer!.ToArray<float>();
        model.SetEntry("location", "weights/copy.bin");

        var tensor = ModelReader.Load(model.ModelPath).Graph.Initializers[0].Initializer!;

        Assert.AreEqual("weights/copy.bin", tensor.External!.Location);
        Assert.HasCount(16_384, tensor.ToArray<float>());
        CollectionAssert.AreEqual(expected, tensor.ToArray<float>());
    }

    [TestMethod]
    [DataRow("../secret.bin", "secret.bin", DisplayName = "parent folder")]
    [DataRow("{root}/secret.bin", "secret.bin", DisplayName = "absolute path to a valid data file")]
    [DataRow("/etc/passwd", null, DisplayName = "absolute system file")]
    [DataRow("sub/../../x", "x", DisplayName = "'..' after a folder")]
    [DataRow("..\\x", "x", DisplayName = "Windows-style '..'")]
    [DataRow("C:\\x", "model/C:\\x", DisplayName = "drive letter")]
    public void ExternalDataLocationLeavingTheModelFolderFailsWithMsh1007WithoutOpeningTheFile(string location, string? target)
    {
        using var model = new ExternalDataModel();
        location = location.Replace("{root}", model.Root);
        Directory.CreateDirectory(Path.Combine(model.ModelFolder, "sub"));
        var targetPath = target is null || (OperatingSystem.IsWindows() && target.Contains(':')) ? null : Path.Combine(model.Root, target);
        if (targetPath is not null)
        {
            // A perfectly valid copy of the weights: only the path check can stop the load.
            File.Copy(model.DataPath, targetPath);
        }

        model.SetEntry("location", location);

        using var targetLock = ExclusiveLock(targetPath);
        var e = DiagnosticAssert.Fails(ErrorCodes.ExternalDataUnsafePath, model.ModelPath, () => ModelReader.Load(model.ModelPath));
        Assert.AreEqual($"external-data location '{location}' must be a relative path inside the model's folder", e.Diagnostic.Message);
        Assert.AreEqual($"tensor '{model.FirstExternalTensor}' external_data location", e.Diagnostic.Setting);
    }

    [TestMethod]
    [DataRow("link.data", false, DisplayName = "file link")]
    [DataRow("linked/model.onnx.data", true, DisplayName = "folder link")]
    public void ExternalDataLinkLeavingTheModelFolderFailsWithMsh1007WithoutOpeningTheTarget(string location, bool linkFolder)
    {
        using var model = new ExternalDataModel();
        var outside = Directory.CreateDirectory(Path.Combine(model.Root, "outside")).FullName;
        var target = Path.Combine(outside, "model.onnx.data");
        File.Copy(model.DataPath, target);
        CreateLink(linkFolder, Path.Combine(model.ModelFolder, linkFolder ? "linked" : "link.data"), linkFolder ? outside : target);
        model.SetEntry("location", location);

        using var targetLock = ExclusiveLock(target);
        var error = DiagnosticAssert.Fails(ErrorCodes.ExternalDataUnsafePath, model.ModelPath, () => ModelReader.Load(model.ModelPath));
        Assert.AreEqual($"external-data location '{location}' is a link that leaves the model's folder", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("link.data", false, DisplayName = "file link")]
    [DataRow("linked/model.onnx.data", true, DisplayName = "folder link")]
    public void ExternalDataLinkStayingInsideTheModelFolderLoads(string location, bool linkFolder)
    {
        // The control for the test above: links are fine while their target stays in the folder.
        using var model = new ExternalDataModel();
        var inside = Directory.CreateDirectory(Path.Combine(model.ModelFolder, "blobs")).FullName;
        File.Move(model.DataPath, Path.Combine(inside, "model.onnx.data"));
        CreateLink(linkFolder, Path.Combine(model.ModelFolder, linkFolder ? "linked" : "link.data"), linkFolder ? inside : Path.Combine(inside, "model.onnx.data"));
        model.SetEntry("location", location);

        var tensor = ModelReader.Load(model.ModelPath).Graph.Initializers[0].Initializer!;

        Assert.AreEqual(65_536, tensor.External!.Length);
        Assert.HasCount(16_384, tensor.ToArray<float>());
    }

    [TestMethod]
    [DataRow("offset", "99999999", "external data points at bytes 99999999..", DisplayName = "offset past the end")]
    [DataRow("length", "99999999", "external data points at bytes 0..99999999 ", DisplayName = "length past the end")]
    [DataRow("length", "9223372036854775807", "external data points at bytes 0..9223372036854775807 ", DisplayName = "length of 2^63-1")]
    [DataRow("offset", "-1", "external data has offset '-1', which is not a non-negative integer", DisplayName = "negative offset")]
    [DataRow("length", "1e3", "external data has length '1e3', which is not a non-negative integer", DisplayName = "length not an integer")]
    [DataRow("location", null, "external data has no 'location' entry", DisplayName = "no location")]
    public void ExternalDataRangeOutsideTheFileFailsWithMsh1008InBoundedMemory(string key, string? value, string messageStart)
    {
        using var model = new ExternalDataModel();
        if (value is null)
        {
            model.Rewrite(t => t.ExternalData.Remove(t.ExternalData.Single(entry => entry.Key == key)));
        }
        else
        {
            model.SetEntry(key, value);
        }

        var (e, allocated) = DiagnosticAssert.FailsMeasured(ErrorCodes.ExternalDataRange, model.ModelPath, () => ModelReader.Load(model.ModelPath));
        Assert.StartsWith(messageStart, e.Diagnostic.Message);
        Assert.AreEqual($"tensor '{model.FirstExternalTensor}' external_data", e.Diagnostic.Setting);
        Assert.IsLessThan(MemoryBound, allocated);
    }

    [TestMethod]
    public void ExternalDataLengthNotMatchingTheShapeFailsWithMsh1010()
    {
        using var model = new ExternalDataModel();
        model.Rewrite(t =>
        {
            var length = t.ExternalData.Single(entry => entry.Key == "length");
            length.Value = (long.Parse(length.Value, System.Globalization.CultureInfo.InvariantCulture) - 4).ToString(System.Globalization.CultureInfo.InvariantCulture);
        });

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidTensor, model.ModelPath, () => ModelReader.Load(model.ModelPath));
        Assert.AreEqual("tensor 'fc1.weight' has 65532 bytes of external data but its shape and type need 65536", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(0x7FFF_FFF0UL, DisplayName = "2 GB - 16")]
    [DataRow(0x7FFF_FFFFUL, DisplayName = "2 GB - 1 (int.MaxValue)")]
    [DataRow(0x8000_0000UL, DisplayName = "2 GB (negative as int32)")]
    [DataRow(0xFFFF_FFFFUL, DisplayName = "4 GB - 1")]
    public void GraphLengthFarBeyondTheFileFailsWithMsh1004InBoundedMemory(ulong claimedLength)
    {
        using var temp = new TempDirectory();
        byte[] bytes = [.. WireBytes.VarintField(1, 7), .. WireBytes.Key(7, 2), .. WireBytes.Varint(claimedLength), .. WireBytes.StringField(2, "g")];
        var path = Write(temp, bytes);

        var (e, allocated) = DiagnosticAssert.FailsMeasured(ErrorCodes.ModelTruncated, path, () => ModelReader.Load(path));
        Assert.AreEqual("model file is truncated: a field's length runs past the end of the file", e.Diagnostic.Message);
        Assert.IsLessThan(MemoryBound, allocated);
    }

    [TestMethod]
    public void GraphNested3000IfLevelsDeepFailsWithMsh1005OnASmallStackInBoundedMemory()
    {
        using var temp = new TempDirectory();
        var path = Write(temp, NestedIfModel.Build(3000));

        var (load, allocated) = SmallStack.Run(() => ModelReader.Load(path));

        var e = DiagnosticAssert.Fails(ErrorCodes.ModelTooDeep, path, load);
        Assert.AreEqual("messages are nested more than 100 levels deep", e.Diagnostic.Message);
        Assert.IsLessThan(MemoryBound, allocated);
    }

    [TestMethod]
    public void GraphNestedWithinTheDepthLimitLoadsEveryLevel()
    {
        // The control for the test above: the same builder at 30 levels (3 messages each) is valid.
        using var temp = new TempDirectory();
        var path = Write(temp, NestedIfModel.Build(30));

        var graph = ModelReader.Load(path).Graph;

        Assert.AreEqual(31, graph.EnumerateGraphs().Count());
        Assert.AreEqual(30, graph.EnumerateNodes().Count(n => n.OpType == "If"));
    }

    [TestMethod]
    public void NodeReadingAnUndefinedValueFailsWithMsh1009()
    {
        using var temp = new TempDirectory();
        var proto = FixtureProto();
        var relu = proto.Graph.Node.First(n => n.OpType == "Relu");
        relu.Input[0] = "ghost";
        var path = Write(temp, proto.ToByteArray());

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidGraph, path, () => ModelReader.Load(path));
        Assert.AreEqual($"node '{relu.Name}' (Relu) reads 'ghost', which nothing defines", e.Diagnostic.Message);
    }

    [TestMethod]
    public void ValueProducedTwiceFailsWithMsh1009()
    {
        using var temp = new TempDirectory();
        var proto = FixtureProto();
        var (first, second) = (proto.Graph.Node[0], proto.Graph.Node[2]);
        second.Output[0] = first.Output[0];
        var path = Write(temp, proto.ToByteArray());

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidGraph, path, () => ModelReader.Load(path));
        Assert.AreEqual($"'{first.Output[0]}' (output of node '{second.Name}' ({second.OpType})) is defined more than once", e.Diagnostic.Message);
    }

    [TestMethod]
    public void CycleFailsWithMsh1009()
    {
        using var temp = new TempDirectory();
        var proto = FixtureProto();
        var (gemm, relu) = (proto.Graph.Node[0], proto.Graph.Node[1]);
        Assert.AreEqual(gemm.Output[0], relu.Input[0]);
        gemm.Input[0] = relu.Output[0]; // Gemm reads Relu, which reads Gemm
        var path = Write(temp, proto.ToByteArray());

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidGraph, path, () => ModelReader.Load(path));
        Assert.AreEqual($"graph '{proto.Graph.Name}' has a cycle through node '{gemm.Name}' (Gemm)", e.Diagnostic.Message);
    }

    private static string Write(TempDirectory temp, byte[] bytes)
    {
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void CreateLink(bool folder, string link, string target)
    {
        try
        {
            _ = folder ? Directory.CreateSymbolicLink(link, target) : File.CreateSymbolicLink(link, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Assert.Inconclusive($"cannot create symbolic links here: {e.Message}");
        }
    }

    private static ModelProto FixtureProto() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp")));

    /// <summary>
    /// Holds <paramref name="path"/> open with FileShare.None, so any attempt by the reader to open
    /// it (for reading its bytes) fails with an IOException instead of the coded error. The lock is
    /// checked to work here before it is relied on.
    /// </summary>
    private static FileStream? ExclusiveLock(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
        Assert.ThrowsExactly<IOException>(() => File.ReadAllBytes(path), "the exclusive lock must stop other opens");
        return stream;
    }
}
