package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Pickles written by Python's own pickle module (tests/python/pickle_cases.py, run by the build)
 * against the values Python loaded from them. The directory comes from the system property
 * {@value #PROPERTY}.
 */
public class PickleCasesTest {
  static final String PROPERTY = "ckpt4j.pickleCases";

  /** The directory pickle_cases.py wrote (TimeBoundsTest feeds its refused cases too). */
  public static Path casesDir() {
    String dir = System.getProperty(PROPERTY);
    if (dir == null) {
      fail("set -D" + PROPERTY + "=DIR after running: python3 tests/python/pickle_cases.py DIR");
    }
    return Path.of(dir);
  }

  @TestFactory
  List<DynamicTest> pythonWrittenPickles() throws IOException {
    Path dir = casesDir();
    JsonNode manifest = TaggedJson.MAPPER.readTree(dir.resolve("cases.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : manifest) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> runCase(dir, c)));
    }
    assertTrue(tests.size() > 250, "expected the full case list, found " + tests.size());
    return tests;
  }

  private static void runCase(Path dir, JsonNode c) throws IOException {
    byte[] data = Files.readAllBytes(dir.resolve(c.get("file").asText()));
    PickleOptions options = options(c);
    if (c.has("error")) {
      String expected = c.get("error").asText();
      CheckpointException e = Refusals.assertRefused(Kind.valueOf(c.get("kind").asText()),
          () -> PickleReader.load(data, options), c.get("name").asText());
      assertTrue(e.getMessage().contains(expected),
          "message should contain '" + expected + "': " + e.getMessage());
      assertTrue(e.getMessage().contains(options.where()),
          "message should name the input: " + e.getMessage());
      return;
    }
    TaggedJson.assertMatches(c.get("expect"), PickleReader.load(data, options));
  }

  /** The reader options a case names. */
  public static PickleOptions options(JsonNode c) {
    Set<String> inert = new HashSet<>();
    c.get("inert").forEach(n -> inert.add(n.asText()));
    GlobalResolver resolver = "builtins".equals(c.get("resolver").asText())
        ? GlobalResolver.pythonBuiltins().orElse(GlobalResolver.inert(inert::contains))
        : GlobalResolver.inert(inert::contains);
    PickleOptions.Builder b = PickleOptions.builder()
        .resolver(resolver.orElse(GlobalResolver.refuseAll()))
        .where("cases/" + c.get("file").asText())
        .allowCycles(c.get("allowCycles").asBoolean())
        .py2StringCharset("utf-8".equals(c.get("py2").asText())
            ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    if (c.get("persistent").asBoolean()) {
      b.persistentLoader(TaggedJson.PersistentRef::new);
    }
    return b.build();
  }
}
