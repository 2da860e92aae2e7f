package io.ckpt4j.layout.hf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON text exactly as Python's {@code json.dumps(obj, indent=2, sort_keys=True)} writes it (what
 * transformers writes an index with): two-space indents, {@code ": "} and {@code ","} + newline,
 * {@code {}} for an empty object, keys sorted by code point, and {@code ensure_ascii}: every
 * character outside printable ASCII (DEL included) as a lowercase {@code \\uXXXX} escape (two
 * for a character beyond the BMP), except the short escapes \b \f \n \r \t.
 *
 * <p>Values are nested {@code Map<String, ?>}s, {@code String}s and {@code Long}s, all the index
 * holds.
 */
final class PythonJson {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
      .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
      .build();
  private static final String INDENT = "  ";
  private static final String NEWLINE = "\n";
  /** ASCII DEL, which ensure_ascii escapes and Jackson would not. */
  private static final int DEL = 0x7f;

  private PythonJson() {}

  /** {@code json.dumps(value, indent=2, sort_keys=True)}. */
  static String dumps(Map<String, ?> value) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.setPrettyPrinter(printer());
      g.setCharacterEscapes(new AsciiEscapes());
      write(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static DefaultPrettyPrinter printer() {
    DefaultIndenter indenter = new DefaultIndenter(INDENT, NEWLINE);
    Separators separators = Separators.createDefaultInstance()
        .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
        .withObjectEmptySeparator("");
    return new DefaultPrettyPrinter(separators)
        .withObjectIndenter(indenter)
        .withArrayIndenter(indenter);
  }

  private static void write(JsonGenerator g, Object value) throws IOException {
    if (value instanceof Map<?, ?> map) {
      List<String> keys = new ArrayList<>();
      for (Object k : map.keySet()) keys.add((String) k);
      keys.sort(PythonJson::compareCodePoints);
      g.writeStartObject();
      for (String k : keys) {
        g.writeFieldName(k);
        write(g, map.get(k));
      }
      g.writeEndObject();
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof Long n) {
      g.writeNumber(n);
    } else {
      throw new IllegalArgumentException("no JSON for " + value);
    }
  }

  /** Python's str ordering: by code point (Java's compareTo orders UTF-16 units). */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) return Integer.compare(ca, cb);
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** Jackson's standard escapes, plus DEL as ensure_ascii writes it. */
  private static final class AsciiEscapes extends CharacterEscapes {
    private static final long serialVersionUID = 1L;
    private final int[] codes = standardAsciiEscapesForJSON();

    AsciiEscapes() {
      codes[DEL] = ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return codes;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return null;
    }
  }
}
