package io.ckpt4j.save;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The writer {@link AtomicSaveTest} kills: saves version 1, 2, 3, ... of a large checkpoint over
 * the same path, forever, printing {@code start N} before and {@code saved N NANOS} after each save.
 * Version N holds {@code version = N}, a payload of MIB mebibytes all equal to {@code N % 251}, and
 * {@code check = [N]}, so a reader can tell a whole version from a torn one.
 *
 * <p>Usage: {@code SaveLoop TARGET MIB}
 */
public final class SaveLoop {
  /** Payload bytes are the version modulo this prime, so consecutive versions differ. */
  static final int PAYLOAD_MODULUS = 251;

  private SaveLoop() {}

  @SuppressWarnings("try") // the scope frees each version's tensors
  public static void main(String[] args) throws Exception {
    Path target = Path.of(args[0]);
    long bytes = Long.parseLong(args[1]) << 20;
    for (long version = 1; ; version++) {
      try (PointerScope scope = new PointerScope()) {
        Map<Object, Object> tree = new LinkedHashMap<>();
        tree.put("version", version);
        Tensor payload = torch.empty(new long[] {bytes}, new TensorOptions(torch.ScalarType.Byte), null);
        payload.fill_(new Scalar(version % PAYLOAD_MODULUS));
        tree.put("payload", payload);
        Tensor check = torch.empty(new long[] {1}, new TensorOptions(torch.ScalarType.Long), null);
        check.fill_(new Scalar(version));
        tree.put("check", check);
        System.out.println("start " + version);
        System.out.flush();
        long start = System.nanoTime();
        TorchSaver.save(target, tree, SaveOptions.defaults());
        System.out.println("saved " + version + " " + (System.nanoTime() - start));
        System.out.flush();
      }
    }
  }
}
