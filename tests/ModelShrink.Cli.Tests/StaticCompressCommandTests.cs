using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>compress --quantize int8static</c> and its options, in process.</summary>
[TestClass]
public sealed class StaticCompressCommandTests
{
    [TestMethod]
    public void CalibrationMethodAndActivationTypeReachThePassAndTheResultIsValidated()
    {
        using var temp = new TempDirectory();
        var calibration = Directory.CreateDirectory(temp.File("calibration")).FullName;
        foreach (var set in Fixtures.DataSets("digits-cnn").Take(4))
        {
            var copy = Directory.CreateDirectory(Path.Combine(calibration, Path.GetFileName(set))).FullName;
            File.Copy(Path.Combine(set, "input_0.pb"), Path.Combine(copy, "input_0.pb"));
        }

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("out.onnx"), "--quantize", "int8static",
            "--calibration", calibration, "--calibration-method", "percentile", "--percentile", "99.99", "--activation-type", "int8",
            "--holdout", Path.Combine(Fixtures.Root, "digits-cnn"), "--min-agreement", "0.99", "--json");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.AreEqual("", result.Stderr);
        StringAssert.Contains(result.Stdout, "\"int8-static\"");
        StringAssert.Contains(result.Stdout, "values calibrated");
        Assert.IsTrue(File.Exists(temp.File("out.onnx")));
    }

    [TestMethod]
    public void WithoutCalibrationOrHoldoutDataTheExitCodeIs1WithMSH2500()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--quantize", "Int8Static");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, "error MSH2500: int8 static quantization needs calibration data");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }

    [TestMethod]
    public void WithOnlyHoldoutDataItCalibratesOnItAndWarnsWithMSH2506()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--quantize", "int8static",
            "--holdout", Path.Combine(Fixtures.Root, "digits-mlp"));

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.Contains(result.Stderr, "warning MSH2506");
    }

    [TestMethod]
    public void ABadCalibrationMethodIsMSH1014()
    {
        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", "out.onnx", "--quantize", "int8static", "--calibration-method", "median");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, "error MSH1014: --calibration-method: 'median' is not one of minmax, percentile, entropy");
    }
}
