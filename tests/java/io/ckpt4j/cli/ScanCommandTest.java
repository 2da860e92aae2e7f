package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import io.ckpt4j.scan.CheckpointScanner;
import io.ckpt4j.scan.ScanReport;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code ckpt4j scan}: exit 0 all safe, 1 any unsafe, 2 any incomplete, 3 any review, with 1
 * winning over 2 and 2 over 3; text, JSON and SARIF 2.1.0 (one result per finding).
 */
class ScanCommandTest {
  private static String scanFile(String name) {
    return TestData.dir("scan").resolve(name).toString();
  }

  private static String incompleteFile() {
    // a tar checkpoint (torch <= 0.1.9): not read, so not known safe
    return TestData.dir("crafted").resolve("tar_format.pt").toString();
  }

  @Test
  void exitCodesRankUnsafeThenIncompleteThenReview() {
    String safe = scanFile("clean_state_dict.pt");
    String review = scanFile("whole_model.pt");
    String unsafe = scanFile("reduce_torch_load.pt");
    String incomplete = incompleteFile();
    assertEquals(ScanReport.EXIT_SAFE, CliRun.of("scan", safe).exit());
    assertEquals(ScanReport.EXIT_REVIEW, CliRun.of("scan", safe, review).exit());
    assertEquals(ScanReport.EXIT_INCOMPLETE, CliRun.of("scan", review, incomplete).exit());
    assertEquals(ScanReport.EXIT_UNSAFE, CliRun.of("scan", incomplete, unsafe, review).exit());
  }

  @Test
  void textSaysVerdictFindingAndTorchBehaviour() {
    CliRun run = CliRun.of("scan", scanFile("prepended_pickle.pt"));
    assertTrue(run.stdout().contains("UNSAFE"), run.stdout());
    assertTrue(run.stdout().contains("PICKLE_BEFORE_ZIP"), run.stdout());
    assertTrue(run.stdout().contains("torch.load(weights_only=False) runs the code in it"),
        run.stdout());
  }

  @Test
  void jsonAndSarifCarryEveryFinding() throws Exception {
    Path dir = TestData.dir("scan");
    int findings = CheckpointScanner.scan(dir).files().stream()
        .mapToInt(f -> f.findings().size()).sum();
    ObjectMapper mapper = new ObjectMapper();
    CliRun json = CliRun.of("scan", "--json", dir.toString());
    JsonNode doc = mapper.readTree(json.stdout());
    assertEquals("unsafe", doc.get("verdict").asText());
    assertEquals(json.exit(), doc.get("exit_code").asInt());
    int listed = 0;
    for (JsonNode f : doc.get("files")) listed += f.get("findings").size();
    assertEquals(findings, listed);

    CliRun sarif = CliRun.of("scan", "--sarif", dir.toString());
    JsonNode log = mapper.readTree(sarif.stdout());
    assertEquals("2.1.0", log.get("version").asText());
    JsonNode results = log.get("runs").get(0).get("results");
    assertEquals(findings, results.size());
    JsonNode rules = log.get("runs").get(0).get("tool").get("driver").get("rules");
    for (JsonNode r : results) {
      assertEquals(r.get("ruleId").asText(),
          rules.get(r.get("ruleIndex").asInt()).get("id").asText());
      assertTrue(r.get("locations").get(0).get("physicalLocation").get("artifactLocation")
          .get("uri").asText().startsWith("file:"));
    }
  }
}
