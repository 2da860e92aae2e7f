package io.ckpt4j.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * No false positives, no misses: every file the other Python generators write and every
 * real-world fixture is {@code safe} or {@code review} (whole pickled models, TorchScript); every
 * hostile fixture — picklescan's malicious pickles and zips, the pickle cases that run code, the
 * crafted size lies and broken containers — is {@code unsafe} or {@code incomplete}.
 */
class ScanCorpusTest {
  /** The generators' output folders of files torch.save, torch.jit.save and the like wrote. */
  private static final List<String> GENERATED = List.of("corpus", "four-cases", "statedicts",
      "torchscript", "training", "lightning", "resnet", "shards", "pt2", "dcp", "diff",
      "parallel", "zip-cases", "pickle-cases", "pickle-writer-out");
  /** Pickle cases that are hostile, or malformed on purpose (each reader test refuses them). */
  private static final Predicate<String> HOSTILE_PICKLE_CASE = name -> name.startsWith("hostile__")
      || name.startsWith("refused_") || name.startsWith("bad_") || name.startsWith("strict_")
      // protocol 5 out-of-band buffers: a legal pickle ckpt4j does not read (fail closed)
      || name.startsWith("buffer_out_of_band");
  /**
   * picklescan's fixtures that are not malicious: its benign control pickle, and a PNG signature
   * named .pt (no pickle, no zip: torch.load refuses it and nothing runs; scan says "not a
   * checkpoint", safe).
   */
  private static final Set<String> BENIGN_HOSTILE_FIXTURES = Set.of("SOURCES.md",
      "picklescan__tests_data_benign0_v4.pkl", "hostile__picklescan__tests_data_benign0_v4.pkl.pkl",
      "picklescan__tests_data_bad_pytorch.pt");
  /** The crafted cases whose refusal is a size lie or a broken container. */
  private static final Set<String> CRAFTED_LIES =
      Set.of("INVALID_TENSOR", "TRUNCATED", "MALFORMED_CONTAINER");

  @Test
  void generatedAndRealWorldFilesAreSafeOrReview() throws Exception {
    List<Path> roots = new ArrayList<>();
    for (String name : GENERATED) roots.add(TestData.dir(name));
    roots.add(TestData.fixtures().resolve("real-world"));
    ScanReport report = CheckpointScanner.scan(roots.toArray(Path[]::new));
    List<String> wrong = new ArrayList<>();
    int scanned = 0;
    for (FileReport f : report.files()) {
      String name = f.path().getFileName().toString();
      boolean malformed = f.path().toString().contains("st_malformed")
          || f.path().getParent().getFileName().toString().equals("pickle-cases")
          && HOSTILE_PICKLE_CASE.test(name);
      if (malformed) continue;
      scanned++;
      if (f.verdict() != Verdict.SAFE && f.verdict() != Verdict.REVIEW) {
        wrong.add(f.path() + " " + f.verdict().word() + " " + f.findings());
      }
    }
    assertTrue(scanned > 500, "files scanned: " + scanned);
    assertEquals(List.of(), wrong, "false positives");
  }

  @Test
  void hostileFilesAreUnsafeOrIncomplete() throws Exception {
    List<Path> hostile = new ArrayList<>();
    try (var files = java.nio.file.Files.list(TestData.fixtures().resolve("hostile"))) {
      files.filter(p -> !BENIGN_HOSTILE_FIXTURES.contains(p.getFileName().toString()))
          .forEach(hostile::add);
    }
    try (var files = java.nio.file.Files.list(TestData.dir("pickle-cases"))) {
      files.filter(p -> p.getFileName().toString().startsWith("hostile__")
          || p.getFileName().toString().startsWith("refused_"))
          .filter(p -> !BENIGN_HOSTILE_FIXTURES.contains(p.getFileName().toString()))
          .forEach(hostile::add);
    }
    Path crafted = TestData.dir("crafted");
    JsonNode index = new ObjectMapper().readTree(crafted.resolve("index.json").toFile());
    for (JsonNode c : index.get("cases")) {
      if (c.hasNonNull("ckpt4j_kind") && CRAFTED_LIES.contains(c.get("ckpt4j_kind").asText())) {
        hostile.add(crafted.resolve(c.get("file").asText()));
      }
    }
    List<String> missed = new ArrayList<>();
    for (Path file : hostile) {
      FileReport f = CheckpointScanner.scanFile(file);
      if (f.verdict() != Verdict.UNSAFE && f.verdict() != Verdict.INCOMPLETE) {
        missed.add(file + " " + f.verdict().word() + " " + f.findings());
      }
    }
    assertTrue(hostile.size() > 40, "hostile files: " + hostile.size());
    assertEquals(List.of(), missed, "hostile files not caught");
  }
}
