using System.Globalization;
using ModelShrink.Core.Inspection;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Cli.Output;

/// <summary>The human-readable form of <c>modelshrink inspect</c>.</summary>
public static class SummaryText
{
    /// <summary>Writes <paramref name="s"/> as aligned text.</summary>
    public static void Write(TextWriter w, ModelSummary s)
    {
        // Every name below comes from the model file; a hostile one may hold terminal escape sequences.
        w = new PrintableWriter(w);
        w.WriteLine($"{s.File} ({Size(s.FileBytes)})");
        w.WriteLine($"  IR version   {s.IrVersion}");
        w.WriteLine($"  producer     {(s.Producer.Length == 0 ? "(none)" : s.Producer)}");
        w.WriteLine($"  opsets       {string.Join(", ", s.Opsets.Select(o => $"{o.Domain} {o.Version}"))}");
        w.WriteLine("inputs");
        foreach (var input in s.Inputs)
        {
            w.WriteLine($"  {input.Name}: {input.Type}[{string.Join(",", input.Shape)}]");
        }

        w.WriteLine("outputs");
        foreach (var output in s.Outputs)
        {
            w.WriteLine($"  {output.Name}: {output.Type}[{string.Join(",", output.Shape)}]");
        }

        w.WriteLine($"nodes: {s.NodeCount} in {s.SubgraphCount + 1} graph(s)");
        foreach (var op in s.Operators)
        {
            w.WriteLine($"  {op.OpType,-28} {op.Count,6}");
        }

        w.WriteLine($"parameters: {s.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} ({Size(s.ParameterBytes)})");
        foreach (var type in s.ParametersByType)
        {
            w.WriteLine($"  {type.Type,-10} {type.Count.ToString("N0", CultureInfo.InvariantCulture),14} {Size(type.Bytes),12}");
        }

        w.WriteLine($"largest weights");
        foreach (var weight in s.LargestWeights)
        {
            w.WriteLine($"  {weight.Name,-40} {weight.Type}[{string.Join(",", weight.Shape)}] {Size(weight.Bytes)} ({weight.Storage})");
        }

        w.WriteLine(s.ExternalData.Count == 0 ? "external data: none" : "external data");
        foreach (var file in s.ExternalData)
        {
            w.WriteLine($"  {file.Location}: {file.Tensors} tensor(s), {Size(file.Bytes)}");
        }
    }

    // Escapes control characters in everything written through it (see PrintableText).
    private sealed class PrintableWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value) => inner.Write(PrintableText.Escape(value.ToString()));

        public override void Write(string? value) => inner.Write(value is null ? null : PrintableText.Escape(value));

        public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : PrintableText.Escape(value));

        public override void WriteLine() => inner.WriteLine();
    }

    /// <summary>A byte count in the units users type (1 KB = 1024 B).</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + "GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + "MB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.##", CultureInfo.InvariantCulture) + "KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
