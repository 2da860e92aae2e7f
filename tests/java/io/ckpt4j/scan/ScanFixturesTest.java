package io.ckpt4j.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.container.zip.ZipAnomaly;
import io.ckpt4j.container.zip.ZipAnomalyException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * One file per container trick, size lie and forbidden call (tests/python/make_scan.py, made with
 * torch 2.13 and byte edits): the scan names the finding the generator expects, gives the file
 * its verdict, and states what torch 2.13 did with the file when the generator loaded it
 * (weights_only=True, and weights_only=False in a subprocess with a harmless payload). A container
 * trick scan calls unsafe, load refuses with the same error kind.
 */
class ScanFixturesTest {
  private static final Map<String, TorchReaction> REACTIONS = Map.of(
      "loads", TorchReaction.LOADS, "refuses", TorchReaction.REFUSES,
      "runs payload", TorchReaction.RUNS_CODE);

  /** A case of the scan manifest and its file. */
  private record Case(JsonNode c, Path file) {}

  private static List<Case> cases() {
    Path dir = TestData.dir("scan");
    List<Case> cases = new ArrayList<>();
    for (JsonNode c : TestData.manifest("scan").get("cases")) {
      cases.add(new Case(c, dir.resolve(c.get("file").asText())));
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> findingsVerdictsAndTorchBehaviour() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Case k : cases()) {
      JsonNode c = k.c();
      Path file = k.file();
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        FileReport report = CheckpointScanner.scanFile(file);
        String what = c.get("what").asText() + ": " + report;
        assertEquals(c.get("verdict").asText(), report.verdict().word(), what);
        if (c.get("finding").isNull()) {
          assertTrue(report.findings().isEmpty(), what);
          return;
        }
        Finding finding = report.finding(FindingKind.valueOf(c.get("finding").asText()));
        assertNotNull(finding, what);
        TorchBehaviour torch = new TorchBehaviour(
            REACTIONS.get(c.get("torch_weights_only").asText()),
            REACTIONS.get(c.get("torch_full").asText()));
        assertEquals(torch, finding.torch(), what + "; torch 2.13 said " + c.get("torch_error"));
        assertTrue(finding.torch().words().contains("weights_only=True) "
            + torch.weightsOnly().words()), finding.torch().words());
      }));
    }
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> loadRefusesWhatScanCallsAContainerTrick() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Case k : cases()) {
      Path file = k.file();
      for (Finding f : CheckpointScanner.scanFile(file).findings()) {
        if (!isZipAnomaly(f.kind())) continue;
        tests.add(DynamicTest.dynamicTest(k.c().get("name").asText(), () -> {
          CheckpointException e = Refusals.assertRefused(
              EnumSet.of(Kind.MALFORMED_CONTAINER, Kind.UNSUPPORTED_FORMAT),
              () -> CheckpointLoader.describe(file, LoadOptions.defaults()), f.detail());
          assertTrue(e instanceof ZipAnomalyException z && z.anomaly().name()
              .equals(f.kind().name()), e.getMessage());
        }));
      }
    }
    assertTrue(tests.size() >= 6, "container tricks in the scan manifest: " + tests.size());
    return tests.stream();
  }

  private static boolean isZipAnomaly(FindingKind kind) {
    for (ZipAnomaly a : ZipAnomaly.values()) {
      if (a.name().equals(kind.name())) return true;
    }
    return false;
  }
}
