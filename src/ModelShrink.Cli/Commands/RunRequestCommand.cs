using ModelShrink.Shared.Contracts;
using System.CommandLine;
using System.Text.Json;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Requests;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Cli.Commands;

/// <summary>
/// <c>modelshrink run-request REQUEST --response RESPONSE</c>: what the MSBuild task runs. Reads
/// a build request (JSON), processes every item, writes the response (JSON). Item failures are
/// reported in the response; the exit code is non-zero only when no response could be written.
/// </summary>
public static class RunRequestCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        WriteIndented = true,
    };

    /// <summary>Builds the command (hidden from help: it is the task's interface, not the user's).</summary>
    public static Command Create()
    {
        var request = new Argument<string>("REQUEST") { Description = "The request file written by the MSBuild task." };
        var response = new Option<string>("--response") { Description = "Where to write the response.", Required = true };
        var command = new Command("run-request", "Process a build request from the ModelShrink.Build MSBuild task.") { request, response };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var requestPath = parse.GetValue(request)!;
            var responsePath = parse.GetValue(response)!;
            // Progress goes to stdout as "ModelShrink: ..." lines, which the task logs at high importance.
            var result = BuildRunner.Run(Read(requestPath), progress: new ProgressWriter(parse.InvocationConfiguration.Output, "ModelShrink: "));
            var temp = responsePath + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(result, Json));
            File.Move(temp, responsePath, overwrite: true);
            return 0;
        });
        return command;
    }

    private static BuildRequest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<BuildRequest>(File.ReadAllText(path), Json)
                ?? throw new JsonException("the request is empty");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw ModelShrinkException.Error(ErrorCodes.BadRequest, $"cannot read the build request: {e.Message}", path);
        }
    }
}

