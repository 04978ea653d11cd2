using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Reads and writes single serialized TensorProto files, the ONNX test-data layout
/// (<c>test_data_set_N/input_K.pb</c>) used for holdout and calibration data.
/// </summary>
public static class TensorFile
{
    /// <summary>Reads one tensor; its data must be inline.</summary>
    public static Tensor Read(string path)
    {
        InputFile.CheckRegular(path, "tensor file");

        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidTensor, $"not a serialized ONNX tensor: {e.Message}", path, inner: e);
        }

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidTensor, "tensor files with external data are not supported", path);
        }

        return Tensor.FromProto(proto, null, path);
    }

    /// <summary>Writes one tensor (raw_data encoding).</summary>
    public static void Write(Tensor tensor, string path)
    {
        var proto = new TensorProto { Name = tensor.Name, DataType = (int)tensor.DataType };
        proto.Dims.AddRange(tensor.Dims);
        TensorProtoCodec.WriteInline(tensor, proto, TensorEncoding.Raw);
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
    }
}
