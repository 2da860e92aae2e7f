package io.ckpt4j.save;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.ChildJvm;
import io.ckpt4j.CliRun;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DCP directories Java writes from the state_dict tests/python/make_dcp.py torch.save'd (nested
 * dicts, several dtypes, a strided tensor, non-tensor values): as one rank and as two ranks (row
 * shards, a file per rank). Python's {@code dcp.load} into a pre-allocated state_dict and
 * {@code dcp_to_torch_save} must both give the source back bit-exact (make_dcp.py check); Java
 * reads them back the same. A writer killed mid-save leaves no directory at the target.
 */
class DcpSaverTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long KILL_WAIT_S = 120;

  @Test
  void pythonLoadsWhatJavaWrote(@TempDir Path tmp) throws Exception {
    Path source = TestData.dir("dcp").resolve("source.pt");
    List<Map<String, Object>> cases = new ArrayList<>();
    // What dcp_to_torch_save gave for Python's own dcp.save of the same state_dict.
    JsonNode expected = JSON.readTree(TestData.dir("dcp").resolve("single.expected.json").toFile());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(source, LoadOptions.defaults())) {
      for (int ranks : new int[] {1, 2, 3}) {
        Path dir = tmp.resolve("ranks" + ranks);
        DcpMetadata md = DcpSaver.save(dir, (Map<?, ?>) ckpt.root(), ckpt, ranks,
            SaveOptions.defaults());
        long multi = md.entries().values().stream().filter(e ->
            e instanceof DcpMetadata.TensorEntry t && t.chunks().size() > 1).count();
        assertEquals(ranks > 1, multi > 0, "tensors written as several chunks: " + multi);
        for (int r = 0; r < ranks; r++) {
          assertTrue(Files.isRegularFile(dir.resolve(DcpLayout.dataFileName(r, 0))));
        }
        try (LoadedCheckpoint back = CheckpointLoader.load(dir, LoadOptions.defaults())) {
          assertJsonEquals(expected, JSON.valueToTree(InspectJson.document(back)),
              dir + " read back");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", "ranks" + ranks);
        c.put("dir", dir.toString());
        c.put("source", source.toString());
        c.put("ranks", ranks);
        cases.add(c);
      }
    }
    Map<String, String> verdicts = DcpCheck.run(tmp, cases);
    assertEquals(cases.size(), verdicts.size(), verdicts.toString());
    for (Map.Entry<String, String> v : verdicts.entrySet()) {
      assertEquals("ok", v.getValue(), v.getKey());
    }
  }

  /**
   * {@code ckpt4j convert} both ways: Python's 2-rank DCP directory to one .pt (as
   * dcp_to_torch_save), and a .pt to a 2-rank DCP directory (as torch_save_to_dcp, sharded).
   */
  @Test
  void convertBothWays(@TempDir Path tmp) throws Exception {
    Path fixtures = TestData.dir("dcp");
    Path pt = tmp.resolve("from-dcp.pt");
    CliRun toPt = CliRun.of("convert", fixtures.resolve("ranks2").toString(), pt.toString());
    assertEquals(0, toPt.exit(), toPt.stderr());
    Path dir = tmp.resolve("to-dcp");
    CliRun toDcp = CliRun.of("convert", "--to", "dcp", "--ranks", "2",
        fixtures.resolve("source.pt").toString(), dir.toString());
    assertEquals(0, toDcp.exit(), toDcp.stderr());
    try (LoadedCheckpoint back = CheckpointLoader.load(pt, LoadOptions.defaults())) {
      assertJsonEquals(JSON.readTree(fixtures.resolve("ranks2.expected.json").toFile())
          .get("entries"), JSON.valueToTree(InspectJson.document(back)).get("entries"), "pt");
    }
    Map<String, Object> fromDcp = new LinkedHashMap<>();
    fromDcp.put("id", "dcp-to-pt");
    fromDcp.put("kind", "pt");
    fromDcp.put("saved", pt.toString());
    fromDcp.put("dcp", fixtures.resolve("ranks2").toString());
    Map<String, Object> toDir = new LinkedHashMap<>();
    toDir.put("id", "pt-to-dcp");
    toDir.put("dir", dir.toString());
    toDir.put("source", fixtures.resolve("source.pt").toString());
    toDir.put("ranks", 2);
    Map<String, String> verdicts = DcpCheck.run(tmp.resolve("check"), List.of(fromDcp, toDir));
    assertEquals(Map.of("dcp-to-pt", "ok", "pt-to-dcp", "ok"), verdicts);
  }

  /** A failing save leaves the old directory as it was, and nothing else behind. */
  @Test
  void aFailedSaveKeepsTheOldDirectory(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("ckpt");
    try (Tensor a = torch.arange(new org.bytedeco.pytorch.Scalar(6.0))) {
      Map<String, Object> good = new LinkedHashMap<>();
      good.put("a", a);
      DcpSaver.save(dir, good, null, 2, SaveOptions.defaults());
      Map<String, Object> bad = new LinkedHashMap<>(good);
      bad.put("b", new Object());
      Refusals.assertRefused(Kind.UNSUPPORTED_VALUE,
          () -> DcpSaver.save(dir, bad, null, 2, SaveOptions.defaults()));
      try (Stream<Path> entries = Files.list(tmp)) {
        assertEquals(List.of(dir), entries.toList());
      }
      try (LoadedCheckpoint back = CheckpointLoader.load(dir, LoadOptions.defaults())) {
        assertEquals(List.of("a"), new ArrayList<>(((Map<?, ?>) back.root()).keySet()));
      }
    }
  }

  /**
   * A writer killed while it writes the data files (a child JVM, SIGKILL) leaves no directory at
   * the target — only its temporary sibling, which the next save deletes.
   */
  @Test
  void aKilledWriterLeavesNoDirectoryThatLooksComplete(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("killed");
    Process p = new ProcessBuilder(ChildJvm.command(List.of(), DcpSaveMain.class,
        dir.toString())).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile())
        .start();
    Path temp = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(KILL_WAIT_S);
    while (temp == null && System.nanoTime() < deadline && p.isAlive()) {
      try (Stream<Path> entries = Files.list(tmp)) {
        temp = entries.filter(e -> e.getFileName().toString().startsWith(".killed.ckpt4j-")
            && Files.exists(e.resolve(DcpLayout.dataFileName(0, 0)))).findFirst().orElse(null);
      }
      Thread.sleep(5);
    }
    p.destroyForcibly().waitFor();
    assertTrue(temp != null, "the child never started writing: "
        + Files.readString(tmp.resolve("child.log")));
    assertFalse(Files.exists(dir), "a killed writer left " + dir);
    assertTrue(Files.exists(temp));
    try (Tensor a = torch.ones(3)) {
      DcpSaver.save(dir, Map.of("a", a), null, 1, SaveOptions.defaults());
    }
    assertFalse(Files.exists(temp), "the next save deletes the dead writer's leftover");
    try (LoadedCheckpoint back = CheckpointLoader.load(dir, LoadOptions.defaults())) {
      assertEquals(1, back.tensorRefs().size());
    }
  }

  /** The child of the kill test: saves a large (512 MiB) DCP directory as 2 ranks. */
  public static final class DcpSaveMain {
    private static final long ROWS = 8192;
    private static final long COLS = 16384;

    public static void main(String[] args) throws Exception {
      try (Tensor big = torch.ones(ROWS, COLS)) {
        DcpSaver.save(Path.of(args[0]), Map.of("big", big), null, 2, SaveOptions.defaults());
      }
    }
  }
}
