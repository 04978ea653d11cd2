using Google.Protobuf;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests.Support;

/// <summary>
/// digits-mlp saved with its weights in <c>model/model.onnx.data</c> inside a temp folder, with
/// helpers to rewrite the external_data entries the way a hostile or broken file would.
/// </summary>
internal sealed class ExternalDataModel : IDisposable
{
    private readonly TempDirectory temp = new();

    public ExternalDataModel()
    {
        Directory.CreateDirectory(ModelFolder);
        ModelWriter.Save(ModelReader.Load(Fixtures.Model("digits-mlp")), ModelPath, new ModelSaveOptions { ExternalDataThreshold = 1024 });
    }

    /// <summary>The temp folder holding the model folder (the "outside" of the model folder).</summary>
    public string Root => temp.Path;

    /// <summary>The folder the model lives in.</summary>
    public string ModelFolder => Path.Combine(temp.Path, "model");

    public string ModelPath => Path.Combine(ModelFolder, "model.onnx");

    public string DataPath => ModelPath + ".data";

    /// <summary>The name of the first externally stored tensor.</summary>
    public string FirstExternalTensor => Proto().Graph.Initializer.First(IsExternal).Name;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> in the external_data of every external tensor.</summary>
    public void SetEntry(string key, string value) => Rewrite(tensor => tensor.ExternalData.Single(e => e.Key == key).Value = value);

    /// <summary>Applies <paramref name="edit"/> to every external tensor and saves the model file.</summary>
    public void Rewrite(Action<TensorProto> edit)
    {
        var proto = Proto();
        foreach (var tensor in proto.Graph.Initializer.Where(IsExternal))
        {
            edit(tensor);
        }

        File.WriteAllBytes(ModelPath, proto.ToByteArray());
    }

    public ModelProto Proto() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelPath));

    public void Dispose() => temp.Dispose();

    private static bool IsExternal(TensorProto tensor) => tensor.DataLocation == TensorProto.Types.DataLocation.External;
}
