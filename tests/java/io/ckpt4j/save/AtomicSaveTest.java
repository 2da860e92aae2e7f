package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.ChildJvm;
import io.ckpt4j.Refusals;
import io.ckpt4j.fs.AtomicFile;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target of a save always holds a complete file: a writer JVM ({@link SaveLoop}) that saves a
 * 64 MiB checkpoint over one path again and again is killed (SIGKILL) in the middle of a save,
 * several times; after each kill the target loads — in Java, and in Python with torch.load
 * (weights_only, and mmap=True) — as one whole version, the last one saved or the one being
 * saved; the only temporary file left is the killed write's, and the next save removes it.
 */
class AtomicSaveTest {
  private static final int ROUNDS = 4;
  private static final String PAYLOAD_MIB = "64";
  private static final long LINE_TIMEOUT_SECONDS = 120;
  private static final long WARM_UP_SAVES = 3;

  @TempDir Path dir;

  @Test
  void killedWritersLeaveACompleteFile() throws Exception {
    Path target = dir.resolve("model.pt");
    Path snapshots = Files.createDirectories(dir.resolve("snapshots"));
    PythonCheck python = new PythonCheck();
    Random random = new Random(7);
    int killedMidWrite = 0;
    StringBuilder log = new StringBuilder();
    for (int round = 0; round < ROUNDS; round++) {
      Writer writer = Writer.start(target, dir.resolve("writer-" + round + ".err"));
      long savedVersion;
      long started;
      long sleep;
      try {
        // Let the writer warm up (its first save runs cold code) and time its fastest save.
        String[] saved;
        long fastest = Long.MAX_VALUE;
        do {
          saved = writer.next("saved");
          if (!saved[1].equals("1")) fastest = Math.min(fastest, Long.parseLong(saved[2]));
        } while (Long.parseLong(saved[1]) < WARM_UP_SAVES);
        savedVersion = Long.parseLong(saved[1]);
        started = Long.parseLong(writer.next("start")[1]);
        // Inside the next save, most likely: after its temp file exists, before its rename.
        sleep = (long) (fastest * (0.1 + 0.5 * random.nextDouble()));
        TimeUnit.NANOSECONDS.sleep(sleep);
      } finally {
        writer.kill();
      }
      List<Path> temps = temporaryFiles(target);
      assertTrue(temps.size() <= 1, "temporary files left after round " + round + ": " + temps);
      if (!temps.isEmpty()) killedMidWrite++;
      long version = readWholeVersion(target);
      log.append(String.format(" [round %d: saved %d, started %d, killed %.0f ms in, found %d,"
          + " temporary files %d]", round, savedVersion, started, sleep / 1e6, version, temps.size()));
      assertTrue(version == savedVersion || version == started, "round " + round + ": version "
          + version + " at the target, but the writer had saved " + savedVersion + " and started "
          + started);
      Path snapshot = Files.createDirectories(snapshots.resolve("round" + round))
          .resolve(target.getFileName());
      Files.copy(target, snapshot);
      python.add("round " + round, "atomic", snapshot).put("version", version);
    }
    // Kills that leave a temporary file landed inside a write: most of them must.
    assertTrue(2 * killedMidWrite >= ROUNDS, "too few kills landed inside a write:" + log);

    // The next save removes the killed writers' leftovers and leaves none of its own.
    Map<Object, Object> small = new LinkedHashMap<>();
    small.put("version", 0L);
    TorchSaver.save(target, small, SaveOptions.defaults());
    assertEquals(List.of(), temporaryFiles(target));

    Map<String, String> verdicts = python.run(dir);
    for (Map.Entry<String, String> v : verdicts.entrySet()) {
      assertEquals("ok", v.getValue(), v.getKey() + ": torch.load of what the killed writer left");
    }
  }

  @Test
  void aFailedSaveKeepsTheOldFileAndLeavesNoTemporaryFile() throws Exception {
    Path target = dir.resolve("keep.pt");
    Map<Object, Object> tree = new LinkedHashMap<>();
    tree.put("a", 1L);
    TorchSaver.save(target, tree, SaveOptions.defaults());
    byte[] before = Files.readAllBytes(target);
    // Fails while the new file is being written: half of it is on disk when the error comes.
    CheckpointException e = assertThrows(CheckpointException.class, () ->
        AtomicFile.write(target, true, temp -> {
          try {
            Files.write(temp, new byte[1 << 20]);
          } catch (IOException io) {
            throw new AssertionError(io);
          }
          throw new CheckpointException(Kind.IO, "disk full (simulated)");
        }));
    assertEquals("disk full (simulated)", e.getMessage());
    assertEquals(Kind.IO, e.kind());
    assertArrayEquals(before, Files.readAllBytes(target));
    assertEquals(List.of(), temporaryFiles(target));
    // Fails before anything is written: a value no checkpoint holds.
    tree.put("b", new Object());
    Refusals.assertRefused(Kind.UNSUPPORTED_VALUE, () -> TorchSaver.save(target, tree));
    assertArrayEquals(before, Files.readAllBytes(target));
    assertEquals(List.of(), temporaryFiles(target));
  }

  @Test
  void aLeftoverOfALiveProcessIsKept() throws Exception {
    Path target = dir.resolve("shared.pt");
    long self = ProcessHandle.current().pid();
    // A temporary file of this (live) process, as a concurrent save would have, and one of a
    // process id that cannot be running.
    Path live = Files.createFile(dir.resolve(".shared.pt.ckpt4j-" + self + "-00.tmp"));
    Path dead = Files.createFile(dir.resolve(".shared.pt.ckpt4j-" + deadPid() + "-00.tmp"));
    TorchSaver.save(target, new LinkedHashMap<>(), SaveOptions.defaults());
    assertTrue(Files.exists(live), "a live writer's temporary file was deleted");
    assertFalse(Files.exists(dead), "a dead writer's temporary file was kept");
  }

  @Test
  void aSymbolicLinkIsFollowedAndKept() throws Exception {
    Path real = Files.createDirectories(dir.resolve("real")).resolve("weights.pt");
    Path link = Files.createSymbolicLink(dir.resolve("latest.pt"), real);
    Map<Object, Object> tree = new LinkedHashMap<>();
    tree.put("x", 1L);
    TorchSaver.save(link, tree, SaveOptions.defaults());
    assertTrue(Files.isSymbolicLink(link));
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(real, LoadOptions.defaults())) {
      assertEquals(tree, ckpt.root());
    }
  }

  /** A pid no process has: above the kernel's pid_max. */
  private static long deadPid() {
    long pid = 1L << 23;
    while (ProcessHandle.of(pid).isPresent()) pid++;
    return pid;
  }

  /** The version the target holds, after checking that it is whole; fails on a torn file. */
  private static long readWholeVersion(Path target) throws Exception {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(target, LoadOptions.defaults())) {
      Map<?, ?> root = (Map<?, ?>) ckpt.root();
      long version = (Long) root.get("version");
      Tensor payload = ckpt.tensor((TensorRef) root.get("payload"));
      long expected = version % SaveLoop.PAYLOAD_MODULUS;
      assertEquals(expected, payload.min().item_long(), "payload of version " + version);
      assertEquals(expected, payload.max().item_long(), "payload of version " + version);
      assertEquals(version, ckpt.tensor((TensorRef) root.get("check")).item_long());
      return version;
    }
  }

  private static List<Path> temporaryFiles(Path target) throws IOException {
    String prefix = "." + target.getFileName() + ".ckpt4j-";
    try (Stream<Path> files = Files.list(target.getParent())) {
      return files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
    }
  }

  /** A {@link SaveLoop} JVM and the lines it prints. */
  private static final class Writer {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private Writer(Process process) {
      this.process = process;
      Thread pump = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) lines.add(line);
        } catch (IOException e) {
          // the process was killed
        }
      }, "save-loop-stdout");
      pump.setDaemon(true);
      pump.start();
    }

    static Writer start(Path target, Path stderr) throws IOException, URISyntaxException {
      List<String> command = ChildJvm.command(List.of("-Xmx256m"), SaveLoop.class,
          target.toString(), PAYLOAD_MIB);
      return new Writer(new ProcessBuilder(command).redirectError(stderr.toFile()).start());
    }

    /** The next line starting with {@code word}, split at spaces. */
    String[] next(String word) throws InterruptedException {
      while (true) {
        String line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (line == null) {
          throw new AssertionError("the writer printed no '" + word + "' line in "
              + LINE_TIMEOUT_SECONDS + " s (alive: " + process.isAlive() + ")");
        }
        if (line.startsWith(word + " ")) return line.split(" ");
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly();
      assertTrue(process.waitFor(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS), "the writer outlived SIGKILL");
    }
  }
}
