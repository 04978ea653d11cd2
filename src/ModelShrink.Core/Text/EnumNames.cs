namespace ModelShrink.Core.Text;

/// <summary>Enum values as users type them in options and metadata: names, case-insensitive, never numbers.</summary>
public static class EnumNames
{
    /// <summary>Parses a defined name of <typeparamref name="T"/>, ignoring case; numbers are refused.</summary>
    public static bool TryParse<T>(string text, out T value) where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !text.Trim().All(c => char.IsDigit(c) || c == '-');

    /// <summary>The names to list in an error message.</summary>
    public static string List<T>() where T : struct, Enum => string.Join(", ", Enum.GetNames<T>());
}
