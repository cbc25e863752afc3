using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Server.Hosting;

/// <summary>
/// Enums as their names, case-insensitive on input, numbers refused; an unknown value fails with a message that
/// lists the accepted names (the problem-details answer then names the field and the choices).
/// </summary>
public sealed class StrictEnumConverter : JsonConverterFactory
{
    /// <inheritdoc />
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    /// <inheritdoc />
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T>
        where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = reader.GetString();
                // Names only: no numbers, no comma-separated combinations.
                if (text is { Length: > 0 } && char.IsAsciiLetter(text[0]) && !text.Contains(',', StringComparison.Ordinal)
                    && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value))
                {
                    return value;
                }
                throw new JsonException($"'{text}' is not a valid {typeof(T).Name}; use one of: {string.Join(", ", Enum.GetNames<T>())}.");
            }
            throw new JsonException($"Expected a {typeof(T).Name} name as a string; use one of: {string.Join(", ", Enum.GetNames<T>())}.");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }
}
