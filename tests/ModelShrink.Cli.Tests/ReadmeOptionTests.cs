using System.CommandLine;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary>The README documents every option of every command.</summary>
[TestClass]
public sealed class ReadmeOptionTests
{
    [TestMethod]
    public void EveryOptionOfEveryCommandIsInTheReadme()
    {
        var readme = Repository.Readme;
        var missing = new List<string>();
        var seen = 0;
        foreach (var command in CliCommands.CreateRoot().Subcommands.Where(c => !c.Hidden))
        {
            foreach (var option in command.Options.Where(o => !o.Hidden && o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name is not ("--help")))
            {
                seen++;
                if (!readme.Contains($"`{option.Name}", StringComparison.Ordinal))
                {
                    missing.Add($"{command.Name} {option.Name}");
                }
            }
        }

        Assert.IsGreaterThan(50, seen, "the commands' options were walked");
        Assert.IsEmpty(missing, $"options the README does not name: {string.Join(", ", missing)}");
    }
}
