using System.Collections.Generic;
using System.Linq;

namespace ModelShrink.Shared.Settings
{
    /// <summary>
    /// Every user setting of a compression, each declared once. The engine binds them
    /// (ModelShrink.Core.Settings.SettingsBinder), the CLI makes its <c>compress</c> options from them,
    /// the MSBuild task hashes the data they name, and tests hold build/ModelShrink.Build.props, the
    /// property page and the README's settings table to this list.
    /// </summary>
    public static class SettingCatalog
    {
        private const string Compression = "Compression";
        private const string Quantization = "Quantization";
        private const string Pruning = "Pruning";
        private const string Reconstruction = "Reconstruction";
        private const string Budgets = "Budgets";
        private const string Output = "Output";

        /// <summary>Quantize.</summary>
        public static readonly Setting Quantize = new Setting("Quantize", SettingKind.Choice, Compression,
            "`None` (clean-up only), `Int8` (int8 weights; MatMul/Gemm run as integer ops, Conv/LSTM/GRU weight-only), `Int4` (MatMul weights in 4-bit blocks, MatMulNBits), `Fp16`, `Int8Static` (calibrated QDQ: ONNX Runtime runs QLinearConv/QLinearMatMul/QGemm; needs {Calibration} or {Holdout} data), or `Auto`: the smallest model within every budget, by measurement: the plain modes (int4 when the model has MatMul weights, int8, int8 static when {Calibration} is named), then mixed per-layer plans (int4 MatMuls beside int8 Convs, per-tensor or per-channel int8, sensitive layers float) chosen from each layer's measured sensitivity, fp16 and none only when nothing smaller fits; the smallest that fits wins unless it runs slower than the original while a larger one does not. Without {Holdout} only int8 and fp16 compete (int4 when they break the size budget), warning MSH4104. See [The Auto search](#the-auto-search)",
            defaultValue: "None", choices: new[] { "None", "Int8", "Int8Static", "Fp16", "Int4", "Auto" });

        /// <summary>Opset.</summary>
        public static readonly Setting Opset = new Setting("Opset", SettingKind.Integer, Compression,
            "raise the model's ai.onnx opset to N (7–21) after clean-up, rewriting the ops whose definition changed (Clip, Softmax, Squeeze/Unsqueeze, Reduce*, Split, Slice, Pad, Upsample→Resize, …); a model already at or above N is left as it is",
            defaultText: "the model's own");

        /// <summary>OrtOptimize.</summary>
        public static readonly Setting OrtOptimize = new Setting("OrtOptimize", SettingKind.Switch, Compression,
            "also run ONNX Runtime's basic offline graph optimizations after clean-up", defaultValue: "false");

        /// <summary>SearchTimeLimit.</summary>
        public static readonly Setting SearchTimeLimit = new Setting("SearchTimeLimit", SettingKind.Number, Compression,
            "seconds `Quantize=Auto` may search; then it keeps the best candidate so far (it goes on until one fits)",
            appliesTo: "Auto", cliAliases: new[] { "--time-limit" });

        /// <summary>PerChannel.</summary>
        public static readonly Setting PerChannel = new Setting("PerChannel", SettingKind.Switch, Quantization,
            "one weight scale per output channel; `false`: one per tensor, 2–6% smaller int8 files, but it dropped a public OCR recognizer's top-1 agreement to 82% (per channel 99%)",
            defaultValue: "true", appliesTo: "Int8, Int8Static", cliInverse: "--per-tensor");

        /// <summary>WeightType.</summary>
        public static readonly Setting WeightType = new Setting("WeightType", SettingKind.Choice, Quantization,
            "the stored int8 weight type", defaultValue: "int8", choices: new[] { "int8", "uint8" }, appliesTo: "Int8");

        /// <summary>Symmetric.</summary>
        public static readonly Setting Symmetric = new Setting("Symmetric", SettingKind.Switch, Quantization,
            "symmetric int8 weights (zero point 0)", defaultText: "`true` for int8 weights, `false` for uint8, as ONNX Runtime's tool", appliesTo: "Int8");

        /// <summary>ReduceRange.</summary>
        public static readonly Setting ReduceRange = new Setting("ReduceRange", SettingKind.Switch, Quantization,
            "7-bit weights, for CPUs without VNNI (as ONNX Runtime's tool)", defaultValue: "false", appliesTo: "Int8, Int8Static");

        /// <summary>OpTypes.</summary>
        public static readonly Setting OpTypes = new Setting("OpTypes", SettingKind.List, Quantization,
            "operator types to quantize",
            defaultText: "int8: `MatMul,Gemm,Conv,LSTM,GRU,RNN`; int8static: Conv, MatMul, Gemm and the ops that can join an int8 region (Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Add, Mul, Concat, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Resize, Softmax)",
            appliesTo: "Int8, Int8Static");

        /// <summary>ExcludeNodes.</summary>
        public static readonly Setting ExcludeNodes = new Setting("ExcludeNodes", SettingKind.List, Quantization,
            "node names kept float", appliesTo: "Int8, Int8Static, Int4");

        /// <summary>Int8Form.</summary>
        public static readonly Setting Int8Form = new Setting("Int8Form", SettingKind.Choice, Quantization,
            "`auto` picks per operator what measured fastest in ONNX Runtime (integer DynamicQuantizeLinear+MatMulInteger for MatMul/Gemm; for Conv and recurrent ops int8 weights rebuilt by Cast/Mul, which ONNX Runtime folds at load so the float kernels run); `integer` (MatMulInteger/ConvInteger), `weight-only` (int8 storage, float compute) or `qdq` (standard DequantizeLinear on the weights)",
            defaultValue: "auto", choices: new[] { "auto", "integer", "weight-only", "qdq" }, appliesTo: "Int8");

        /// <summary>BlockSize.</summary>
        public static readonly Setting BlockSize = new Setting("BlockSize", SettingKind.Integer, Quantization,
            "weights per int4 block along K, a power of two ≥ 16", defaultValue: "32", appliesTo: "Int4");

        /// <summary>Int4Format.</summary>
        public static readonly Setting Int4Format = new Setting("Int4Format", SettingKind.Choice, Quantization,
            "`matmulnbits` (com.microsoft MatMulNBits, ONNX Runtime 1.17+) or `qdq` (int4 weights and blocked DequantizeLinear, opset 21)",
            defaultValue: "matmulnbits", choices: new[] { "matmulnbits", "qdq" }, appliesTo: "Int4");

        /// <summary>Int4ZeroPoints.</summary>
        public static readonly Setting Int4ZeroPoints = new Setting("Int4ZeroPoints", SettingKind.Switch, Quantization,
            "asymmetric int4 blocks with zero points", defaultValue: "false", appliesTo: "Int4");

        /// <summary>Int4AccuracyLevel.</summary>
        public static readonly Setting Int4AccuracyLevel = new Setting("Int4AccuracyLevel", SettingKind.Integer, Quantization,
            "MatMulNBits `accuracy_level`; 4 lets ONNX Runtime compute in int8 (faster for large K)", defaultText: "unset, as ONNX Runtime's tool", appliesTo: "Int4");

        /// <summary>Calibration.</summary>
        public static readonly Setting Calibration = new Setting("Calibration", SettingKind.Path, Quantization,
            "calibration data in any holdout layout (a few hundred representative inputs not used for validation)",
            defaultText: "the {Holdout} data (warning MSH2506)", appliesTo: "Int8Static, Auto", namesData: true);

        /// <summary>CalibrationMethod.</summary>
        public static readonly Setting CalibrationMethod = new Setting("CalibrationMethod", SettingKind.Choice, Quantization,
            "how activation ranges are chosen", defaultValue: "minmax", choices: new[] { "minmax", "percentile", "entropy" }, appliesTo: "Int8Static");

        /// <summary>Percentile.</summary>
        public static readonly Setting Percentile = new Setting("Percentile", SettingKind.Number, Quantization,
            "the percentile of absolute values `CalibrationMethod=percentile` keeps", defaultValue: "99.999", appliesTo: "Int8Static");

        /// <summary>ActivationType.</summary>
        public static readonly Setting ActivationType = new Setting("ActivationType", SettingKind.Choice, Quantization,
            "activation type: `uint8` (ONNX Runtime's x64 kernels fuse it everywhere) or `int8` (blocks fusion where a value has several readers, MSH2505)",
            defaultValue: "uint8", choices: new[] { "uint8", "int8" }, appliesTo: "Int8Static");

        /// <summary>SymmetricActivations.</summary>
        public static readonly Setting SymmetricActivations = new Setting("SymmetricActivations", SettingKind.Switch, Quantization,
            "symmetric activation ranges (zero point in the middle)", defaultValue: "false", appliesTo: "Int8Static");

        /// <summary>ThinConvs.</summary>
        public static readonly Setting ThinConvs = new Setting("ThinConvs", SettingKind.Choice, Quantization,
            "Convs with fewer than 4 input channels per group (depthwise, stems): `float` computes them in float on int8 weights (MLAS's int8 kernels for them measured 3–4× slower), `int8` quantizes them too",
            defaultValue: "float", choices: new[] { "float", "int8" }, appliesTo: "Int8Static");

        /// <summary>KeepIoTypes.</summary>
        public static readonly Setting KeepIoTypes = new Setting("KeepIoTypes", SettingKind.Switch, Quantization,
            "keep the model's float32 inputs and outputs float32, with Casts at the boundary", defaultValue: "true", appliesTo: "Fp16");

        /// <summary>Fp16BlockOps.</summary>
        public static readonly Setting Fp16BlockOps = new Setting("Fp16BlockOps", SettingKind.List, Quantization,
            "op types kept float32; replaces the default list (`default` expands to it, `none` blocks nothing)",
            defaultText: "the ONNX-ML ops, NonMaxSuppression, TopK, RoiAlign, Range, CumSum, Min, Max, Upsample, RandomUniformLike, quantization and signal-processing ops",
            appliesTo: "Fp16");

        /// <summary>Fp16BlockNodes.</summary>
        public static readonly Setting Fp16BlockNodes = new Setting("Fp16BlockNodes", SettingKind.List, Quantization,
            "node names kept float32", appliesTo: "Fp16");

        /// <summary>Prune.</summary>
        public static readonly Setting Prune = new Setting("Prune", SettingKind.Text, Pruning,
            "sparsity 0–1 (exclusive), e.g. `0.5`: share of weights zeroed (magnitude) or of output channels removed (channels) per pruned layer; runs after clean-up, before quantization. `auto`: a binary search over 0.05 and 0.1–0.9 for the highest sparsity whose model meets the accuracy budgets on the holdout data (needs {Holdout} and an accuracy budget; MSH4105 when none holds); then the quantization (or its Auto search) runs on the pruned model. The first and last layers are kept (MSH2401) and layers under 1024 weights skipped",
            defaultText: "no pruning");

        /// <summary>PruneMode.</summary>
        public static readonly Setting PruneMode = new Setting("PruneMode", SettingKind.Text, Pruning,
            "`magnitude`, `nm:N:M` (e.g. `nm:2:4`; {Prune} optional, the sparsity is (M−N)/M) or `channels` (structured: whole output channels removed and every consumer rewired, so fewer parameters and faster; in MatMul-based attention, whole heads: the share {Prune} of each block's heads goes from Q, K, V, the Reshape shapes and the output projection, at least one kept)",
            defaultValue: "magnitude");

        /// <summary>PruneScope.</summary>
        public static readonly Setting PruneScope = new Setting("PruneScope", SettingKind.Choice, Pruning,
            "`layer`: every layer reaches the sparsity; `global`: one magnitude threshold across layers", defaultValue: "layer",
            choices: new[] { "layer", "global" }, appliesTo: "magnitude");

        /// <summary>PruneSkip.</summary>
        public static readonly Setting PruneSkip = new Setting("PruneSkip", SettingKind.List, Pruning, "node names never pruned");

        /// <summary>PruneLayers.</summary>
        public static readonly Setting PruneLayers = new Setting("PruneLayers", SettingKind.List, Pruning,
            "per-layer sparsities by node name, e.g. `/fc1/Gemm=0.8,/fc2/Gemm=0.3`; these layers are pruned even at the ends of the network");

        /// <summary>PruneMinSize.</summary>
        public static readonly Setting PruneMinSize = new Setting("PruneMinSize", SettingKind.Integer, Pruning,
            "weights with fewer elements are not pruned", defaultValue: "1024");

        /// <summary>PruneChannelMultiple.</summary>
        public static readonly Setting PruneChannelMultiple = new Setting("PruneChannelMultiple", SettingKind.Integer, Pruning,
            "a layer whose channel count is a multiple of N keeps a multiple of N (the channels kept are rounded up): ONNX Runtime runs Convs in its fast NCHWc layout only when their channels are a multiple of its block (8 with AVX2); `1` keeps the exact share",
            defaultValue: "8", appliesTo: "channels");

        /// <summary>PruneKeepEnds.</summary>
        public static readonly Setting PruneKeepEnds = new Setting("PruneKeepEnds", SettingKind.Switch, Pruning,
            "keep the first and last layers dense (they are named in warning MSH2401)", defaultValue: "true");

        /// <summary>PruneGather.</summary>
        public static readonly Setting PruneGather = new Setting("PruneGather", SettingKind.Switch, Pruning,
            "also prune large Gather tables (embeddings); magnitude and N:M", defaultValue: "false");

        /// <summary>PruneStorage.</summary>
        public static readonly Setting PruneStorage = new Setting("PruneStorage", SettingKind.Choice, Pruning,
            "how zeros are stored: `sparse` (sparse_initializer with the narrowest index ONNX Runtime loads, when smaller), `sparse-int64` (int64 indices, what the ONNX checker accepts) or `dense` (zeros in place; compresses best inside zip files). ONNX Runtime makes them dense at load, so this saves disk, not memory",
            defaultValue: "sparse", choices: new[] { "sparse", "sparse-int64", "dense" });

        /// <summary>Reconstruct.</summary>
        public static readonly Setting Reconstruct = new Setting("Reconstruct", SettingKind.Choice, Reconstruction,
            "teacher-guided repair of weights rounded to integers (`Int8`, `Int8Static`, `Int4`) or pruned (magnitude, N:M, channels), measured on {ReconstructData} against the original model. `Bias`: shift each changed layer's float bias so its per-channel output mean matches the original's (Nagel et al., 2019), layer by layer; a float Conv or Gemm without a bias is given one, other layers without a float bias are skipped (MSH2601); not after `Int8Static`. `Layerwise`: each MatMul/Gemm/Conv of the main graph gets its input second moment H = XᵀX measured on the original, then pruning chooses and compensates its zeros with SparseGPT (channel pruning: chooses the channels the next layers miss least and refits those layers by least squares) and quantization rounds it with GPTQ onto the quantizer's own grid, so the layer's output stays closest to the original's; then `Bias`. Needs {ReconstructData} or {Holdout}. See [Reconstruction](#reconstruction)",
            defaultValue: "None", choices: new[] { "None", "Bias", "Layerwise" });

        /// <summary>ReconstructData.</summary>
        public static readonly Setting ReconstructData = new Setting("ReconstructData", SettingKind.Path, Reconstruction,
            "data {Reconstruct} measures on (same layouts as {Holdout}); separate data keeps the holdout score honest. When it is named and is not the {Holdout} data, `Quantize=Auto` and `Prune=auto` may add `Layerwise` to a candidate that misses only the accuracy budget (it adds at most a float bias to Convs and Gemms that had none) before trying anything larger",
            defaultText: "the {Holdout} data", namesData: true);

        /// <summary>ReconstructDamp.</summary>
        public static readonly Setting ReconstructDamp = new Setting("ReconstructDamp", SettingKind.Number, Reconstruction,
            "dampening added to each layer's input second moment H, as a share of its mean diagonal, in (0, 10] (raised tenfold up to three times when H is still singular)",
            defaultValue: "0.01", appliesTo: "Layerwise");

        /// <summary>ReconstructActOrder.</summary>
        public static readonly Setting ReconstructActOrder = new Setting("ReconstructActOrder", SettingKind.Switch, Reconstruction,
            "GPTQ rounds the inputs with the largest second moment first; `false` rounds in weight order", defaultValue: "true", appliesTo: "Layerwise");

        /// <summary>CompareReconstruct.</summary>
        public static readonly Setting CompareReconstruct = new Setting("CompareReconstruct", SettingKind.Switch, Reconstruction,
            "also run the same configuration with `None`, `Bias` and `Layerwise`, validate each on {Holdout}, and list all three as candidates (text, JSON, report); {Reconstruct} names the one written. Not with `Quantize=Auto` or `Prune=auto`",
            defaultValue: "false");

        /// <summary>Holdout.</summary>
        public static readonly Setting Holdout = new Setting("Holdout", SettingKind.Path, Budgets,
            "holdout data: a folder of `test_data_set_N` folders (with optional `labels.json`), an `.npz`/`.npy` file, or a folder of them. The result is run beside the original with ONNX Runtime and scored",
            defaultText: "none", namesData: true);

        /// <summary>Metric.</summary>
        public static readonly Setting Metric = new Setting("Metric", SettingKind.Choice, Budgets,
            "headline metric: `Accuracy`, `Agreement`, `TopK`, `Cosine`, `MaxAbs`, `Rmse`, `Snr`, and for probability maps `ElementAgreement` (share of elements on the same side of {MetricThreshold} in both models) and `Iou` (intersection over union of the elements above it)",
            defaultText: "`ElementAgreement` for a dense probability map (a one-channel `[N,1,H,W]` output with values in 0–1, e.g. a text detector's), else `Accuracy` with labels, else `Agreement` for a class axis, else `Cosine`",
            choices: new[] { "Accuracy", "Agreement", "TopK", "Cosine", "MaxAbs", "Rmse", "Snr", "ElementAgreement", "Iou" });

        /// <summary>MetricThreshold.</summary>
        public static readonly Setting MetricThreshold = new Setting("MetricThreshold", SettingKind.Number, Budgets,
            "the probability above which an element of a map counts as on, for `ElementAgreement` and `Iou` (0–1)", defaultValue: "0.5");

        /// <summary>MetricOutput.</summary>
        public static readonly Setting MetricOutput = new Setting("MetricOutput", SettingKind.Text, Budgets,
            "the model output to score", defaultText: "the first numeric output");

        /// <summary>MaxAccuracyDrop.</summary>
        public static readonly Setting MaxAccuracyDrop = new Setting("MaxAccuracyDrop", SettingKind.Number, Budgets,
            "largest drop of the headline metric in absolute points (`0.01` = one percentage point); needs {Holdout}; broken: MSH4100",
            cliAliases: new[] { "--max-drop" });

        /// <summary>MinAgreement.</summary>
        public static readonly Setting MinAgreement = new Setting("MinAgreement", SettingKind.Number, Budgets,
            "smallest top-1 agreement with the original (`0.99`); needs {Holdout}; broken: MSH4101");

        /// <summary>MinCosine.</summary>
        public static readonly Setting MinCosine = new Setting("MinCosine", SettingKind.Number, Budgets,
            "smallest cosine similarity with the original's outputs (`0.999`); needs {Holdout}; broken: MSH4102");

        /// <summary>MaxSize.</summary>
        public static readonly Setting MaxSize = new Setting("MaxSize", SettingKind.Size, Budgets,
            "size budget, e.g. `20MB` (units `B`, `KB`, `MB`, `GB`, 1 KB = 1024 B, no space); broken: MSH3100");

        /// <summary>MaxSizeRatio.</summary>
        public static readonly Setting MaxSizeRatio = new Setting("MaxSizeRatio", SettingKind.Number, Budgets,
            "size budget as a fraction of the original's size, e.g. `0.3`; broken: MSH3101");

        /// <summary>MaxSizeWarning.</summary>
        public static readonly Setting MaxSizeWarning = new Setting("MaxSizeWarning", SettingKind.Size, Budgets,
            "a size above which the build warns (MSH3100 as a warning) but still places the output, below the {MaxSize} budget (as Angular's maximumWarning beside maximumError)");

        /// <summary>MaxSizeRatioWarning.</summary>
        public static readonly Setting MaxSizeRatioWarning = new Setting("MaxSizeRatioWarning", SettingKind.Number, Budgets,
            "a size ratio above which the build warns (MSH3101 as a warning), below the {MaxSizeRatio} budget");

        /// <summary>MaxAccuracyDropWarning.</summary>
        public static readonly Setting MaxAccuracyDropWarning = new Setting("MaxAccuracyDropWarning", SettingKind.Number, Budgets,
            "a drop of the headline metric above which the build warns (MSH4100 as a warning), below the {MaxAccuracyDrop} budget; needs {Holdout}");

        /// <summary>MinAgreementWarning.</summary>
        public static readonly Setting MinAgreementWarning = new Setting("MinAgreementWarning", SettingKind.Number, Budgets,
            "a top-1 agreement under which the build warns (MSH4101 as a warning), above the {MinAgreement} budget; needs {Holdout}");

        /// <summary>MinCosineWarning.</summary>
        public static readonly Setting MinCosineWarning = new Setting("MinCosineWarning", SettingKind.Number, Budgets,
            "a cosine similarity under which the build warns (MSH4102 as a warning), above the {MinCosine} budget; needs {Holdout}");

        /// <summary>MaxLatencyRatio.</summary>
        public static readonly Setting MaxLatencyRatio = new Setting("MaxLatencyRatio", SettingKind.Number, Budgets,
            "CPU latency budget as a ratio to the original's, measured beside it on one thread (e.g. `1.0`: no slower); broken: MSH4106. `Quantize=Auto` leaves out candidates over it; without it Auto still never picks a candidate slower than the original (by more than 10%, the measurement's noise) when one that is not slower fits");

        /// <summary>BudgetSeverity.</summary>
        public static readonly Setting BudgetSeverity = new Setting("BudgetSeverity", SettingKind.Choice, Budgets,
            "`Error` fails the build (the command exits 1) and places no output; `Warning` reports and places the output",
            defaultValue: "Error", choices: new[] { "Error", "Warning" });

        /// <summary>OutputName.</summary>
        public static readonly Setting OutputName = new Setting("OutputName", SettingKind.Text, Output,
            "base name of the outputs (`NAME.onnx`, `NAME.runtime.json`); a plain file name", defaultText: "the model's file name",
            surface: SettingSurface.Item);

        /// <summary>Providers.</summary>
        public static readonly Setting Providers = new Setting("Providers", SettingKind.List, Output,
            "`CPU`, `CUDA`, `DirectML`; GPU providers are tried first, CPU last. CPU gets the {Quantize} mode; CUDA and DirectML get a float16 file (`NAME.fp16.onnx`) when that mode is a quantization, else they share `NAME.onnx`; `NAME.runtime.json` lists them (on the command line, given this option: beside the output, NAME being its name)",
            defaultValue: "CPU", choices: new[] { "CPU", "CUDA", "DirectML" });

        /// <summary>Every setting, in the order the README and the property page list them.</summary>
        public static readonly IReadOnlyList<Setting> All = new[]
        {
            Quantize, Opset, OrtOptimize, SearchTimeLimit,
            PerChannel, WeightType, Symmetric, ReduceRange, OpTypes, ExcludeNodes, Int8Form,
            BlockSize, Int4Format, Int4ZeroPoints, Int4AccuracyLevel,
            Calibration, CalibrationMethod, Percentile, ActivationType, SymmetricActivations, ThinConvs,
            KeepIoTypes, Fp16BlockOps, Fp16BlockNodes,
            Prune, PruneMode, PruneScope, PruneSkip, PruneLayers, PruneMinSize, PruneChannelMultiple, PruneKeepEnds, PruneGather, PruneStorage,
            Reconstruct, ReconstructData, ReconstructDamp, ReconstructActOrder, CompareReconstruct,
            Holdout, Metric, MetricThreshold, MetricOutput, MaxAccuracyDrop, MinAgreement, MinCosine,
            MaxSize, MaxSizeRatio, MaxLatencyRatio, BudgetSeverity,
            MaxSizeWarning, MaxSizeRatioWarning, MaxAccuracyDropWarning, MinAgreementWarning, MinCosineWarning,
            OutputName, Providers,
        };

        /// <summary>
        /// MSBuild's common item metadata, which an item may carry beside its settings: accepted, not
        /// settings. <c>Link</c> places the outputs where the link says (the idiom for a model outside
        /// the project folder); the others mean to the IDE what they mean on any item.
        /// </summary>
        public static readonly IReadOnlyList<string> StandardItemMetadata = new[]
        {
            "Link", "Visible", "DependentUpon", "SubType", "Generator", "LastGenOutput", "CustomToolNamespace", "DesignTime", "AutoGen",
            "CopyToOutputDirectory", "CopyToPublishDirectory", "ExcludeFromSingleFile", "TargetPath", "Pack", "PackagePath",
        };

        /// <summary>The settings that name data files (hashed by the build's incremental fingerprint).</summary>
        public static IEnumerable<Setting> DataSettings => All.Where(s => s.NamesData);
    }
}
