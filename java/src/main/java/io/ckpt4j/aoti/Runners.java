package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.tensor.Devices;
import java.nio.file.Path;
import org.bytedeco.pytorch.AOTIModelContainerRunner;
import org.bytedeco.pytorch.AOTIModelContainerRunnerCpu;
import org.bytedeco.pytorch.cuda.AOTIModelContainerRunnerCuda;

/**
 * Starts LibTorch's runner over an unpacked compiled library: {@code AOTIModelContainerRunnerCpu}
 * on the CPU, {@code AOTIModelContainerRunnerCuda} (with the unpacked folder as its cubin
 * directory) on {@code cuda:N}. The CUDA path is compiled here but was only ever run on a GPU
 * machine when one was lent; the CPU path is what the tests run.
 */
final class Runners {
  /** What dlopen says when the library needs a symbol this LibTorch lacks. */
  static final String UNDEFINED_SYMBOL = "undefined symbol";

  private Runners() {}

  static AOTIModelContainerRunner start(UnpackedPackage unpacked, String device, int numRunners,
      Path file) throws CheckpointException {
    String library = unpacked.library().toString();
    try {
      if (device.equals(Devices.CPU)) {
        return new AOTIModelContainerRunnerCpu(library, numRunners, false);
      }
      return new AOTIModelContainerRunnerCuda(library, numRunners, device,
          unpacked.dir().toString(), false);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      String reason = CheckpointException.firstLine(e);
      if (reason.contains(UNDEFINED_SYMBOL)) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, "AOTInductor package " + file
            + " was compiled against another LibTorch than ckpt4j's 2.13 (" + reason
            + "): compile it with torch 2.13", e);
      }
      throw new CheckpointException(Kind.NATIVE, "cannot load AOTInductor package " + file
          + " on " + device + ": " + reason, e);
    }
  }
}
