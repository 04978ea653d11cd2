using System.Text.Json;

namespace ModelShrink.Core.Gpu;

/// <summary>Where ONNX Runtime ran a model's nodes, from one profiled run.</summary>
/// <param name="Provider">The provider the session asked for first (e.g. CUDAExecutionProvider).</param>
/// <param name="OnProvider">Nodes that ran on it.</param>
/// <param name="OnCpu">Names of the nodes that ran on the CPU provider instead (ONNX Runtime's names, after its fusions).</param>
/// <param name="CpuShare">The share of the summed kernel time (0 to 1) spent on CPU nodes and on the copies to and from them (Memcpy nodes).</param>
public sealed record NodePlacement(string Provider, int OnProvider, IReadOnlyList<string> OnCpu, double CpuShare)
{
    /// <summary>A CPU share above this is "most compute fell back" (warning MSH3208).</summary>
    public const double FallbackShare = 0.5;

    /// <summary>Whether most of the kernel time was spent on the CPU.</summary>
    public bool MostlyOnCpu => CpuShare > FallbackShare;

    /// <summary>
    /// Reads an ONNX Runtime profile (the JSON array of Chrome trace events that
    /// <c>SessionOptions.EnableProfiling</c> writes): every "Node" event named "NAME_kernel_time"
    /// carries args.provider and its duration in microseconds; a node run several times counts once,
    /// its durations summed.
    /// </summary>
    public static NodePlacement FromProfile(string profileJson, string provider)
    {
        var nodes = new Dictionary<string, (string Provider, double Micros)>(StringComparer.Ordinal);
        double copies = 0;
        using var document = JsonDocument.Parse(profileJson);
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node" || !e.TryGetProperty("name", out var nameElement)
                || nameElement.GetString() is not { } name || !name.EndsWith("_kernel_time", StringComparison.Ordinal)
                || !e.TryGetProperty("args", out var args) || !args.TryGetProperty("provider", out var providerElement))
            {
                continue;
            }

            var node = name[..^"_kernel_time".Length];
            // ONNX Runtime inserts MemcpyToHost/MemcpyFromHost only where a node runs on another provider than
            // its neighbours: their time is the fallback's cost too (fp16 Clip on the CPU made PP-OCR 4x slower on an H100).
            if (args.TryGetProperty("op_name", out var op) && op.GetString() is "MemcpyToHost" or "MemcpyFromHost")
            {
                copies += e.TryGetProperty("dur", out var copy) && copy.TryGetDouble(out var c) ? c : 0;
                continue;
            }

            var micros = e.TryGetProperty("dur", out var dur) && dur.TryGetDouble(out var d) ? d : 0;
            var ran = providerElement.GetString() ?? "";
            nodes[node] = nodes.TryGetValue(node, out var seen) ? (ran, seen.Micros + micros) : (ran, micros);
        }

        var total = nodes.Values.Sum(n => n.Micros) + copies;
        var cpu = nodes.Where(n => n.Value.Provider == RunProvider.CPU.OrtName() && provider != RunProvider.CPU.OrtName()).ToList();
        return new NodePlacement(provider, nodes.Count - cpu.Count, cpu.Select(n => n.Key).Order(StringComparer.Ordinal).ToArray(),
            total > 0 ? (cpu.Sum(n => n.Value.Micros) + (cpu.Count > 0 ? copies : 0)) / total : 0);
    }

    /// <summary>One phrase: "412 nodes on CUDAExecutionProvider, 3 on the CPU (2.1% of kernel time: Shape_1, ...)".</summary>
    public string Describe() =>
        $"{OnProvider} node(s) on {Provider}, {OnCpu.Count} on the CPU ({(CpuShare * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}% of kernel time with the copies{(OnCpu.Count > 0 ? ": " + string.Join(", ", OnCpu.Take(8)) + (OnCpu.Count > 8 ? ", ..." : "") : "")})";
}
