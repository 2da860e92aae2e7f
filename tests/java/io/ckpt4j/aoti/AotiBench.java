package io.ckpt4j.aoti;

import io.ckpt4j.libtorch.ScriptModel;
import io.ckpt4j.libtorch.TorchScript;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The Java half of tests/bench/aoti.sh: ResNet-18 as an AOTInductor package (ExportedModel, two
 * runners) and as TorchScript (one ScriptModel per thread), timed like tests/bench/aoti_bench.py
 * times Python: median ms per call, images per second. Not a test; run with
 * {@code java -cp target/test-classes:target/classes:... io.ckpt4j.aoti.AotiBench DIR}.
 */
public final class AotiBench {
  private static final int SIDE = 224;
  private static final int WARMUP = 3;
  private static final int[][] CASES = {{1, 1}, {32, 1}, {32, 2}};

  private AotiBench() {}

  interface Call {
    void run(Tensor x) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    try (ExportedModel b1 = ExportedModel.load(dir.resolve("resnet18_b1.pt2"),
            AotiOptions.defaults().numRunners(2));
        ExportedModel b32 = ExportedModel.load(dir.resolve("resnet18_b32.pt2"),
            AotiOptions.defaults().numRunners(2))) {
      for (int[] c : CASES) {
        ExportedModel m = c[0] == 1 ? b1 : b32;
        print("java_aoti", c, time(t -> x -> m.forward(x).forEach(Tensor::close), c));
      }
    }
    List<ScriptModel> scripts = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        scripts.add(TorchScript.load(dir.resolve("resnet18_ts.pt"), "cpu").eval());
      }
      for (int[] c : CASES) {
        print("java_torchscript", c, time(t -> x -> scripts.get(t).forwardTensor(x).close(), c));
      }
    } finally {
      scripts.forEach(ScriptModel::close);
    }
  }

  interface PerThread {
    Call of(int thread);
  }

  /** {median ms per call, images per second} of c[1] threads each making CALLS calls. */
  private static double[] time(PerThread calls, int[] c) throws Exception {
    int batch = c[0];
    int threads = c[1];
    int n = batch == 1 ? 50 : 6;
    List<Double> times = Collections.synchronizedList(new ArrayList<>());
    List<Thread> pool = new ArrayList<>();
    List<Exception> failures = Collections.synchronizedList(new ArrayList<>());
    try (Tensor warm = torch.randn(batch, 3, SIDE, SIDE); NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < WARMUP; i++) calls.of(0).run(warm);
    }
    long started = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int id = t;
      pool.add(new Thread(() -> {
        try (Tensor x = torch.randn(batch, 3, SIDE, SIDE); NoGradGuard g = new NoGradGuard()) {
          Call call = calls.of(id);
          for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            call.run(x);
            times.add((System.nanoTime() - s) / 1e6);
          }
        } catch (Exception e) {
          failures.add(e);
        }
      }));
    }
    pool.forEach(Thread::start);
    for (Thread t : pool) t.join();
    if (!failures.isEmpty()) throw failures.get(0);
    double wall = (System.nanoTime() - started) / 1e9;
    List<Double> sorted = new ArrayList<>(times);
    Collections.sort(sorted);
    double median = sorted.get(sorted.size() / 2);
    return new double[] {median, batch * (double) n * threads / wall};
  }

  private static void print(String runner, int[] c, double[] r) {
    System.out.printf(Locale.ROOT, "{\"runner\": \"%s\", \"batch\": %d, \"threads\": %d,"
        + " \"ms_per_call\": %.3f, \"images_per_s\": %.2f}%n", runner, c[0], c[1], r[0], r[1]);
  }
}
