using System.Globalization;

namespace ModelShrink.Core.Budgets;

/// <summary>Sizes as users type them: a number and a unit, no space: <c>20MB</c>; 1 KB = 1024 B.</summary>
public static class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units = [("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1)];

    /// <summary>Parses <paramref name="text"/>; false when it is not a number followed by B, KB, MB or GB.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        foreach (var (unit, factor) in Units)
        {
            if (trimmed.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                var number = trimmed[..^unit.Length];
                if (number.Length > 0 && !char.IsWhiteSpace(number[^1])
                    && double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                    && value >= 0 && value * factor < long.MaxValue)
                {
                    bytes = (long)Math.Round(value * factor);
                    return true;
                }

                return false;
            }
        }

        return false;
    }

    /// <summary>Formats bytes in the largest unit that keeps the number at least 1 (e.g. <c>5.2MB</c>).</summary>
    public static string Format(long bytes)
    {
        foreach (var (unit, factor) in Units)
        {
            if (bytes >= factor || factor == 1)
            {
                return (bytes / (double)factor).ToString(factor == 1 ? "0" : "0.##", CultureInfo.InvariantCulture) + unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}
