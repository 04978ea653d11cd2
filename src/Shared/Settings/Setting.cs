using System;
using System.Text;

namespace ModelShrink.Shared.Settings
{
    /// <summary>
    /// One user setting, declared once in <see cref="SettingCatalog"/>: the &lt;CompressModel&gt;
    /// metadata, the ModelShrink&lt;Name&gt; property, the <c>compress</c> option, the property page,
    /// the incremental fingerprint and the README are derived from it or held to it by tests.
    /// Compiled into the netstandard2.0 MSBuild task too, so it uses no newer language features.
    /// </summary>
    public sealed class Setting
    {
        /// <summary>Declares a setting; see the properties for each argument.</summary>
        public Setting(string name, SettingKind kind, string category, string help,
            string? defaultValue = null, string? defaultText = null, string[]? choices = null, string appliesTo = "",
            bool namesData = false, SettingSurface surface = SettingSurface.Both, string[]? cliAliases = null, string? cliInverse = null)
        {
            Name = name;
            Kind = kind;
            Category = category;
            Help = help;
            Default = defaultValue;
            DefaultText = defaultText;
            Choices = choices ?? Array.Empty<string>();
            AppliesTo = appliesTo;
            NamesData = namesData;
            Surface = surface;
            CliAliases = cliAliases ?? Array.Empty<string>();
            CliInverse = cliInverse;
        }

        /// <summary>The metadata name (PascalCase); the property is ModelShrink + this, the option its kebab case.</summary>
        public string Name { get; }

        /// <summary>How the value is parsed.</summary>
        public SettingKind Kind { get; }

        /// <summary>The property page's category and the README's grouping: Compression, Quantization, Pruning, Reconstruction, Budgets, Output.</summary>
        public string Category { get; }

        /// <summary>What it does. <c>{OtherSetting}</c> names another setting and is shown as metadata or as an option.</summary>
        public string Help { get; }

        /// <summary>The value used when none is given (as a user would type it), or null when there is none or it depends on other settings.</summary>
        public string? Default { get; }

        /// <summary>How the default is described when <see cref="Default"/> cannot say it (e.g. "the {Holdout} data").</summary>
        public string? DefaultText { get; }

        /// <summary>The allowed values of a <see cref="SettingKind.Choice"/> (or of each element of a list).</summary>
        public string[] Choices { get; }

        /// <summary>The Quantize modes or pruning modes it applies to, e.g. "Int8, Int8Static"; empty: every run.</summary>
        public string AppliesTo { get; }

        /// <summary>Whether the value names data files whose contents change the result, so the build's incremental fingerprint hashes them.</summary>
        public bool NamesData { get; }

        /// <summary>Where it can be given.</summary>
        public SettingSurface Surface { get; }

        /// <summary>Older option names that mean the same (kept so existing scripts work), e.g. --max-drop.</summary>
        public string[] CliAliases { get; }

        /// <summary>An older flag that means this switch set to false, e.g. --per-tensor for PerChannel.</summary>
        public string? CliInverse { get; }

        /// <summary>The <c>compress</c> option: <c>--</c> and the name in kebab case (MaxSizeRatio: --max-size-ratio; Int8Form: --int8-form).</summary>
        public string CliName => "--" + Kebab(Name);

        /// <summary>The MSBuild property that gives every item of a project its default.</summary>
        public string PropertyName => "ModelShrink" + Name;

        /// <summary>Whether it can be given on <paramref name="surface"/>.</summary>
        public bool On(SettingSurface surface) => (Surface & surface) != 0;

        /// <summary>PascalCase to kebab case; digits stay with the word they follow.</summary>
        public static string Kebab(string name)
        {
            var text = new StringBuilder(name.Length + 4);
            for (var i = 0; i < name.Length; i++)
            {
                if (char.IsUpper(name[i]) && i > 0)
                {
                    text.Append('-');
                }

                text.Append(char.ToLowerInvariant(name[i]));
            }

            return text.ToString();
        }
    }
}
