package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j demo}: checkpoints bundled with ckpt4j (see resources io/ckpt4j/demo/README.md):
 * formats by content, a legacy Hugging Face state_dict into LibTorch, a file saved on cuda:1 and
 * map_location, DataParallel's {@code module.} keys, lazy (mmap) loading — then the save/load
 * tutorial end to end on a small ResNet ({@link TutorialDemo}), a Hugging Face sharded
 * checkpoint ({@link ShardedDemo}) and a torch.distributed.checkpoint directory ({@link DcpDemo}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Walk through loading real PyTorch checkpoints with ckpt4j.")
final class DemoCommand implements Callable<Integer> {
  private static final String RESOURCES = "/io/ckpt4j/demo/";
  private static final List<String> FILES = List.of(
      "distilbert_legacy_pytorch_model.bin", "data_parallel_state_dict.pt", "saved_on_cuda1.pt");
  private static final String DATA_PARALLEL_PREFIX = "module.";
  private static final String TUTORIAL = "tutorial/";

  @Spec CommandSpec spec;

  private PrintWriter out;

  @Override
  public Integer call() throws CheckpointException, IOException {
    out = spec.commandLine().getOut();
    Path dir = Files.createTempDirectory("ckpt4j-demo");
    try {
      for (String name : FILES) extract(name, dir.resolve(name));
      for (String name : TutorialDemo.FILES) extract(TUTORIAL + name, dir.resolve(name));
      formats(dir);
      legacyStateDict(dir.resolve(FILES.get(0)));
      dataParallel(dir.resolve(FILES.get(1)));
      mapLocation(dir.resolve(FILES.get(2)));
      lazy(dir.resolve(FILES.get(0)));
      new TutorialDemo(dir, out).run();
      ShardedDemo sharded = new ShardedDemo(dir.resolve("sharded"), out);
      sharded.extract(DemoCommand::extract);
      sharded.run();
      DcpDemo dcp = new DcpDemo(dir.resolve("dcp"), out);
      dcp.extract(DemoCommand::extract);
      dcp.run();
      out.println();
      out.println("Done. Try: ./ckpt4j inspect <your checkpoint>   (--json for tools)");
    } finally {
      deleteTree(dir);
    }
    out.flush();
    return 0;
  }

  private void formats(Path dir) throws CheckpointException {
    step("1. .pt, .pth, .bin: the extension means nothing; ckpt4j reads the content");
    for (String name : FILES) {
      out.printf("   %-40s -> %s format%n", name,
          CheckpointLoader.detect(dir.resolve(name)).jsonName());
    }
  }

  private void legacyStateDict(Path file) throws CheckpointException {
    step("2. A real Hugging Face state_dict in torch's legacy format, into LibTorch tensors");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      Map<?, ?> stateDict = (Map<?, ?>) ckpt.root();
      long params = 0;
      for (TensorRef ref : ckpt.tensorRefs()) params += ref.numel();
      out.printf("   torch.load(%s): %d tensors, %,d values%n", file.getFileName(),
          stateDict.size(), params);
      Object first = stateDict.keySet().iterator().next();
      TensorRef ref = (TensorRef) stateDict.get(first);
      Tensor t = ckpt.tensor(ref);
      try (Tensor norm = t.norm()) {
        out.printf("   %s: %s %s, LibTorch says its norm is %.6f%n", first, ref.dtype(),
            Arrays.toString(ref.shape()), norm.item_double());
      }
    }
  }

  private void dataParallel(Path file) throws CheckpointException {
    step("3. Saved from nn.DataParallel: every key starts with 'module.'");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      Map<?, ?> stateDict = (Map<?, ?>) ckpt.root();
      for (Object key : stateDict.keySet()) {
        String k = (String) key;
        String stripped = k.startsWith(DATA_PARALLEL_PREFIX)
            ? k.substring(DATA_PARALLEL_PREFIX.length()) : k;
        out.printf("   %-36s -> %s%n", k, stripped);
      }
      out.println("   (the tutorial's remedy: strip 'module.' before loading into a plain model)");
    }
  }

  private void mapLocation(Path file) throws CheckpointException {
    step("4. Saved on cuda:1: map_location, as torch.load has it");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      out.println("   torch.load(f) works here: this machine has a cuda:1, tensors are on "
          + ckpt.tensor(ckpt.tensorRefs().get(0)).device().str().getString());
    } catch (CheckpointException expected) {
      out.println("   torch.load(f)  -> " + expected.getMessage());
    }
    for (String map : List.of("cpu", "cuda:1=cpu")) {
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file,
          LoadOptions.defaults().mapLocation(MapLocation.parse(map)))) {
        TensorRef ref = ckpt.tensorRefs().get(0);
        out.printf("   map_location=%-12s -> %d tensors, saved on %s, now on %s%n",
            map.contains("=") ? "{" + map.replace("=", ": ") + "}" : "'" + map + "'",
            ckpt.tensorRefs().size(), ref.savedLocation(),
            ckpt.tensor(ref).device().str().getString());
      }
    }
  }

  private void lazy(Path file) throws CheckpointException {
    step("5. mmap=True: open without reading tensor bytes; each storage maps on first use");
    long start = System.nanoTime();
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults().mmap(true))) {
      double openMs = (System.nanoTime() - start) / 1e6;
      TensorRef biggest = ckpt.tensorRefs().stream()
          .max(Comparator.comparingLong(TensorRef::nbytes)).orElseThrow();
      out.printf("   opened %s in %.1f ms; largest tensor %s %s maps on demand%n",
          file.getFileName(), openMs, biggest.dtype(), Arrays.toString(biggest.shape()));
      try (Tensor sum = ckpt.tensor(biggest).sum()) {
        out.printf("   its sum, read through the mapping: %.6f%n", sum.item_double());
      }
    }
  }

  private void step(String title) {
    out.println();
    out.println(title);
  }

  private static void extract(String name, Path target) throws IOException {
    try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) throw new IOException("demo resource " + name + " is missing from the jar");
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
