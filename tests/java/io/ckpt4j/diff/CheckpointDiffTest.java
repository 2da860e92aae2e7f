package io.ckpt4j.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link CheckpointDiff} against Python: tests/python/make_diff.py writes pairs of checkpoints
 * (equal, within and outside tolerance, NaN and infinities, shape/dtype/key changes, a
 * {@code module.} prefix, tied weights in .pt vs .safetensors, training checkpoints) and records
 * {@code torch.testing.assert_close}'s verdict for every tensor pair and the differences; ckpt4j
 * must give the same verdicts and numbers.
 */
class CheckpointDiffTest {
  /** Relative agreement of the differences ckpt4j and Python compute (both in float64). */
  private static final double NUMBERS_RTOL = 1e-12;

  @TestFactory
  Stream<DynamicTest> verdictsAreAssertClosesVerdicts() throws IOException {
    Path dir = TestData.dir("diff");
    // Python's json writes inf as Infinity.
    JsonNode index = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build()
        .readTree(dir.resolve("index.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : index.get("cases")) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        DiffReport r = CheckpointDiff.compare(dir.resolve(c.get("a").asText()),
            dir.resolve(c.get("b").asText()), options(c.get("options")));
        String what = c.get("name").asText();
        assertEquals(c.get("equal").asBoolean(), r.equal(), what);
        assertEquals(strings(c.get("only_in_a")), r.onlyInA(), what + " only in A");
        assertEquals(strings(c.get("only_in_b")), r.onlyInB(), what + " only in B");
        assertEquals(strings(c.get("aliases")), r.aliases(), what + " aliases");
        assertEquals(strings(c.get("values_differ")),
            r.values().stream().map(DiffReport.ValueDiff::key).toList(), what + " values");
        Map<String, TensorDiff> byKey = r.tensors().stream()
            .collect(Collectors.toMap(TensorDiff::key, Function.identity()));
        assertEquals(c.get("tensors").size(), byKey.size(), what + " tensors compared");
        c.get("tensors").fields().forEachRemaining(e -> {
          TensorDiff t = byKey.get(e.getKey());
          JsonNode py = e.getValue();
          String at = what + " " + e.getKey();
          assertEquals(py.get("close").asBoolean(), t.status().passes(), at + " assert_close");
          assertEquals(py.get("status").asText(), t.status().jsonName(), at);
          if (py.has("mismatched") && !c.get("options").path("exact").asBoolean()) {
            assertEquals(py.get("mismatched").asLong(), t.mismatched(), at + " mismatched");
          }
          if (py.has("max_abs")) {
            assertClose(py.get("max_abs").asDouble(), t.maxAbs(), at + " max abs");
            assertClose(py.get("max_rel").asDouble(), t.maxRel(), at + " max rel");
            assertClose(py.get("rms").asDouble(), t.rms(), at + " rms");
          }
        });
      }));
    }
    assertTrue(tests.size() >= 13);
    return tests.stream();
  }

  @Test
  void cliExitsZeroWhenEqualOneWhenDifferentTwoOnError() throws Exception {
    Path dir = TestData.dir("diff");
    CliRun equal = CliRun.of("diff", dir.resolve("module_prefix_a.pt").toString(),
        dir.resolve("module_prefix_b.pt").toString(), "--fix-module-prefix");
    assertEquals(0, equal.exit(), equal.stdout() + equal.stderr());
    assertTrue(equal.stdout().contains(": equal"), equal.stdout());

    CliRun different = CliRun.of("diff", dir.resolve("outside_default_tolerance_a.pt").toString(),
        dir.resolve("outside_default_tolerance_b.pt").toString(), "--json");
    assertEquals(1, different.exit(), different.stderr());
    JsonNode doc = new ObjectMapper().readTree(different.stdout());
    assertEquals(false, doc.get("equal").asBoolean());

    CliRun within = CliRun.of("diff", dir.resolve("outside_default_tolerance_a.pt").toString(),
        dir.resolve("outside_default_tolerance_b.pt").toString(), "--atol", "2", "--rtol", "0");
    assertEquals(0, within.exit(), within.stdout());

    CliRun missing = CliRun.of("diff", dir.resolve("no_such_file.pt").toString(),
        dir.resolve("outside_default_tolerance_b.pt").toString());
    assertEquals(2, missing.exit());
    assertEquals(1, missing.errorLines().size(), missing.stderr());
  }

  private static DiffOptions options(JsonNode o) {
    DiffOptions options = DiffOptions.defaults()
        .equalNan(o.path("equal_nan").asBoolean()).exact(o.path("exact").asBoolean());
    if (o.has("atol")) {
      options = options.tolerance(new Tolerance(o.get("rtol").asDouble(), o.get("atol").asDouble()));
    }
    if (o.has("strip_prefix_a")) options = options.stripPrefixA(o.get("strip_prefix_a").asText());
    if (o.has("strip_prefix_b")) options = options.stripPrefixB(o.get("strip_prefix_b").asText());
    return options;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static void assertClose(double expected, double actual, String what) {
    if (Double.isInfinite(expected) || expected == 0) {
      assertEquals(expected, actual, what);
    } else {
      assertEquals(expected, actual, Math.abs(expected) * NUMBERS_RTOL, what);
    }
  }
}
