package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.Devices;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads TorchScript models ({@code torch.jit.save} output, {@code torch::jit::load} in C++).
 *
 * <p><b>A TorchScript archive is code.</b> Loading one runs its class definitions, and every
 * method you call runs the archive's compiled code in LibTorch's interpreter, with access to all
 * of LibTorch's operators, including those that read and write files. Load only archives from
 * a source you trust as you would trust a program. ckpt4j's checkpoint reader never hands a file
 * to TorchScript on its own (CVE-2025-32434 was a {@code torch.load} that did): this class is
 * the only way in, and only when called.
 */
public final class TorchScript {
  private static final String CPU = "cpu";

  private TorchScript() {}

  /**
   * {@code torch.jit.load(file, map_location=device)}: loads the archive with its tensors on
   * {@code device} ("cpu", "cuda", "cuda:N"), running the archive's code as it loads.
   *
   * @throws CheckpointException if the device does not exist here, if the file is not a
   *     TorchScript archive (a torch.save checkpoint: read it with
   *     {@link io.ckpt4j.load.CheckpointLoader}), if it is the 2019 model.json format, which
   *     LibTorch 2.13 cannot read, or with LibTorch's one-line reason if loading fails
   */
  public static ScriptModel load(Path file, String device) throws CheckpointException {
    String canonical = Devices.check(device, "loading TorchScript " + file, "use device \"cpu\"");
    ArchiveKinds.requireTorchScript(file);
    JitModule module;
    try (Device d = new Device(canonical);
        DeviceOptional location = new DeviceOptional(d)) {
      module = torch.load(file.toString(), location, false);
    } catch (RuntimeException e) {
      throw LibTorchErrors.wrap("cannot load TorchScript model " + file, e);
    }
    return new ScriptModel(module, file, canonical);
  }

  /**
   * Checks, from the file's bytes only (nothing loaded or run), that {@code file} is a TorchScript
   * archive LibTorch 2.13 can load; otherwise says what it is and how to read it (a torch.save
   * checkpoint, a safetensors file, a torch.export {@code .pt2} program, an AOTInductor package).
   */
  public static void requireArchive(Path file) throws CheckpointException {
    ArchiveKinds.requireTorchScript(file);
  }

  /**
   * {@code torch.jit.load(file).state_dict()}: the archive's parameters and buffers by Python's
   * names, in Python's order, on the CPU — the weights of a TorchScript model as a plain
   * state_dict (what {@code ckpt4j convert} writes for one). Like {@link #load} it runs the
   * archive's code to load it: only for archives you trust.
   */
  public static StateDict stateDict(Path file) throws CheckpointException {
    try (ScriptModel model = load(file, CPU)) {
      return model.toStateDict();
    }
  }
}
