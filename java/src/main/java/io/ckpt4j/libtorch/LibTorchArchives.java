package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.fs.AtomicFile;
import io.ckpt4j.tensor.Devices;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.OutputArchive;

/**
 * LibTorch's own module archives: C++ {@code torch::save(module, path)} and
 * {@code torch::load(module, path, device)} for a module built in Java from LibTorch layers
 * (through {@code serialize::OutputArchive} / {@code InputArchive}).
 *
 * <p>The file is a TorchScript zip with one attribute per parameter and buffer and one
 * submodule per child, so Python reads it with {@code torch.jit.load(path)} and its
 * {@code state_dict()} has the module's dotted names. Reading it goes through
 * {@code torch::jit::load}, which runs the archive's code: load archives you trust.
 */
public final class LibTorchArchives {
  /** What JavaCPP reports when a virtual method reaches a Java module object already collected. */
  private static final String COLLECTED_PEER = NullPointerException.class.getName();

  private LibTorchArchives() {}

  /**
   * LibTorch's one-line reason, with a hint for the one failure that is the caller's Java code:
   * LibTorch calls a Java-made module's virtual methods (save, load, is_serializable) through its
   * Java object, which the garbage collector may have taken when nothing in Java refers to it.
   */
  private static CheckpointException failure(String what, RuntimeException e) {
    String reason = CheckpointException.firstLine(e);
    String hint = reason.equals(COLLECTED_PEER)
        ? " (a submodule created in Java was garbage-collected while LibTorch still used it:"
            + " keep a Java reference to every module you register, e.g. as a field)"
        : "";
    return new CheckpointException(Kind.NATIVE, what + ": " + reason + hint, e);
  }

  /** {@code torch::save(module, file)}: writes every parameter and buffer, atomically. */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  public static void save(Module module, Path file) throws CheckpointException {
    AtomicFile.write(file, true, temp -> {
      try (PointerScope scope = new PointerScope()) {
        OutputArchive archive = new OutputArchive();
        module.save(archive);
        archive.save_to(temp.toString());
      } catch (RuntimeException e) {
        throw failure("saving a LibTorch module archive to " + file, e);
      }
    });
  }

  /**
   * {@code torch::load(into, file, device)}, strict: reads the archive with its tensors on
   * {@code device} ("cpu", "cuda", "cuda:N") and sets every parameter and buffer of {@code into}
   * (which then live on that device). The archive must match the module exactly; otherwise
   * nothing is changed and one error lists every missing key, unexpected key and size or dtype
   * mismatch.
   *
   * @throws CheckpointException if the device does not exist here, if the file is no LibTorch
   *     archive (a torch.save checkpoint: read it with {@link io.ckpt4j.load.CheckpointLoader}),
   *     if it is the 2019 model.json format, if it does not match, or with LibTorch's reason
   */
  @SuppressWarnings("try") // the scope frees what LibTorch calls allocate
  public static void load(Module into, Path file, String device) throws CheckpointException {
    String canonical = Devices.check(device, "loading LibTorch archive " + file, "use device \"cpu\"");
    ArchiveKinds.requireModuleArchive(file);
    try (PointerScope scope = new PointerScope()) {
      InputArchive archive = new InputArchive();
      archive.load_from(file.toString(), new DeviceOptional(new Device(canonical)));
      ArchiveCheck.Report report = ArchiveCheck.compare(into, archive);
      if (!report.matches()) {
        throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
            "LibTorch archive " + file + " does not match the module"
            + " (strict): " + report.describe());
      }
      into.load(archive);
    } catch (RuntimeException e) {
      throw failure("cannot load LibTorch archive " + file, e);
    }
  }
}
