namespace ModelShrink.Onnx.Tests.Support;

/// <summary>
/// The bytes of a ModelProto whose graph holds an If node whose then_branch holds an If node ...
/// <c>levels</c> deep. Built from the inside out as a list of prefixes (each level only needs the
/// length of what it wraps), so no recursion and no quadratic copying, whatever the depth.
/// </summary>
internal static class NestedIfModel
{
    // Field numbers from onnx.proto.
    private const int ModelIrVersion = 1, ModelGraph = 7;
    private const int GraphNode = 1, GraphName = 2;
    private const int NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeG = 6, AttributeType = 20;
    private const ulong AttributeTypeGraph = 5;

    public static byte[] Build(int levels)
    {
        byte[] innermost = WireBytes.StringField(GraphName, "innermost");
        var prefixes = new List<byte[]>(levels * 3 + 1);
        long length = innermost.Length; // length of the GraphProto being wrapped
        for (var level = 0; level < levels; level++)
        {
            byte[] attribute = [.. WireBytes.StringField(AttributeName, "then_branch"), .. WireBytes.VarintField(AttributeType, AttributeTypeGraph), .. WireBytes.LengthPrefix(AttributeG, length)];
            length += attribute.Length;
            byte[] node = [.. WireBytes.StringField(NodeOpType, "If"), .. WireBytes.LengthPrefix(NodeAttribute, length)];
            length += node.Length;
            byte[] graph = WireBytes.LengthPrefix(GraphNode, length);
            length += graph.Length;
            prefixes.Add(attribute);
            prefixes.Add(node);
            prefixes.Add(graph);
        }

        prefixes.Add([.. WireBytes.VarintField(ModelIrVersion, 7), .. WireBytes.LengthPrefix(ModelGraph, length)]);
        prefixes.Reverse();
        return [.. prefixes.SelectMany(p => p), .. innermost];
    }
}
