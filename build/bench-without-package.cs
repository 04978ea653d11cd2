// Writes a copy of an app's project file without ModelShrink.Build: its PackageReference and every
// CompressModel item are removed as XML elements (self-closing or not, on one line or many), so the
// copy is the same app minus the package. build/bench-noop-rebuild.sh runs it as a .NET file-based
// app (`dotnet run build/bench-without-package.cs -- SOURCE DESTINATION`), because a fresh CI machine
// has the .NET SDK but not always python3, and editing by line broke on a multi-line element (MSB4067).
// Exit code 0 when both kinds of element were found and removed; 1 with a one-line message otherwise
// (a copy that still holds the package, or a source without it, would make the benchmark meaningless).
using System.Xml.Linq;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: dotnet run build/bench-without-package.cs -- SOURCE.csproj DESTINATION.csproj");
    return 2;
}

var (source, destination) = (args[0], args[1]);
XDocument project;
try
{
    project = XDocument.Load(source, LoadOptions.PreserveWhitespace);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Xml.XmlException)
{
    Console.Error.WriteLine($"{source}: cannot read the project: {e.Message}");
    return 1;
}

// Local names only: a project may carry the old MSBuild XML namespace.
var packageReferences = project.Descendants()
    .Where(e => e.Name.LocalName == "PackageReference"
        && string.Equals((string?)e.Attribute("Include"), "ModelShrink.Build", StringComparison.OrdinalIgnoreCase))
    .ToList();
var items = project.Descendants().Where(e => e.Name.LocalName == "CompressModel").ToList();
if (packageReferences.Count == 0 || items.Count == 0)
{
    Console.Error.WriteLine($"{source}: expected a ModelShrink.Build PackageReference and CompressModel items, found {packageReferences.Count} and {items.Count}");
    return 1;
}

foreach (var element in packageReferences.Concat(items))
{
    element.Remove();
}

project.Save(destination, SaveOptions.DisableFormatting);
Console.WriteLine($"{destination}: removed {packageReferences.Count} ModelShrink.Build PackageReference and {items.Count} CompressModel item(s)");
return 0;
