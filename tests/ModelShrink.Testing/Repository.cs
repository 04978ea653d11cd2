namespace ModelShrink.Testing;

/// <summary>The repository the tests were built from (for checks of its documentation and build files).</summary>
public static class Repository
{
    /// <summary>The folder holding ModelShrink.Build.sln, found above the test assembly.</summary>
    public static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "ModelShrink.Build.sln")))
                {
                    return folder.FullName;
                }
            }

            throw new InvalidOperationException("the repository root (ModelShrink.Build.sln) is not above the test assembly");
        }
    }

    /// <summary>README.md's text.</summary>
    public static string Readme => File.ReadAllText(Path.Combine(Root, "README.md"));
}
