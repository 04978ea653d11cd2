using BenchmarkDotNet.Running;
using ModelShrink.Benchmarks;

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
    case "large-model":
        LargeModel.Run(args[1..]);
        break;
    case "ort-ops":
        OrtOptimizedOps.Run(args[1..]);
        break;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        break;
}
