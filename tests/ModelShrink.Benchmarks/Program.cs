using ModelShrink.Benchmarks;
using ModelShrink.Benchmarks.Checks;

// Exit code 0 only when everything a report or benchmark timed succeeded and produced what it should;
// 1 with a line on stderr otherwise, so that a broken benchmark fails the test that runs it.
try
{
    switch (args.FirstOrDefault())
    {
        case "report":
            QuantizationReport.Run(args[1..]);
            break;
        case "static":
            StaticQuantizationReport.Run(args[1..]);
            break;
        case "reconstruct":
            ReconstructionReport.Run(args[1..]);
            break;
        case "channels":
            ChannelPruningReport.Run(args[1..]);
            break;
        case "data-passes":
            DataPassReport.Run(args[1..]);
            break;
        case "large-model":
            LargeModel.Run(args[1..]);
            break;
        case "ort-ops":
            OrtOptimizedOps.Run(args[1..]);
            break;
        default:
            BenchmarkRuns.Run(args);
            break;
    }

    return 0;
}
catch (BenchmarkFailedException e)
{
    Console.Error.WriteLine($"benchmark failed: {e.Message}");
    return 1;
}
