package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.fs.AtomicFile;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.pickle.PickleWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * {@code torch.save} for the JVM: writes a value tree in PyTorch's zip format, which Python loads
 * with a plain {@code torch.load(path)} (weights_only, and {@code mmap=True}).
 *
 * <pre>{@code
 * PyOrderedDict stateDict = new PyOrderedDict();
 * stateDict.put("fc.weight", new Parameter(weight, true));  // nn.Parameter
 * stateDict.put("fc.bias", bias);                            // a plain LibTorch tensor
 * TorchSaver.save(Path.of("model.pt"), stateDict, SaveOptions.defaults());
 *
 * try (LoadedCheckpoint ckpt = CheckpointLoader.load(in, LoadOptions.defaults().mapLocation("cpu"))) {
 *   TorchSaver.save(out, ckpt, SaveOptions.defaults());     // re-save a loaded checkpoint
 * }
 * }</pre>
 *
 * <p>The tree holds the values the reader returns: dicts ({@link java.util.LinkedHashMap}, and
 * {@link io.ckpt4j.value.PyOrderedDict} with its attributes such as {@code _metadata}), lists,
 * {@link io.ckpt4j.value.PyTuple}s, sets, ints ({@code Long}, {@code BigInteger}), floats,
 * bools, strs, {@link io.ckpt4j.value.PyBytes}, null (None), {@code torch.device}, dtypes and
 * complex values ({@link io.ckpt4j.value.TorchValues}), inert objects — and tensor leaves:
 * <ul>
 *   <li>a LibTorch {@link org.bytedeco.pytorch.Tensor}: a plain tensor, {@code requires_grad} and
 *       the lazy conj/neg bits as the tensor has them;
 *   <li>a {@link Parameter}: an {@code nn.Parameter} with its own {@code requires_grad};
 *   <li>a {@link io.ckpt4j.value.TensorRef} (or a bare {@link io.ckpt4j.value.StorageRef}) of a
 *       {@link LoadedCheckpoint} passed along: saved as the file had it — Parameter or not,
 *       {@code requires_grad}, conj/neg bits, Python attributes and saved location.
 * </ul>
 *
 * <p>What is written is what torch 2.13 writes: the records {@code <root>/data.pkl}, {@code
 * .format_version}, {@code .storage_alignment}, {@code byteorder}, {@code data/<key>}, {@code
 * version}, {@code .data/serialization_id}, in that order, data 64-byte aligned; a protocol 2
 * pickle naming only globals {@code torch.load(weights_only=True)} accepts; each storage once
 * however many tensors view it, so views and tied weights come back shared, with their offsets and
 * strides. The root folder is the file name without its extension, as torch names it.
 *
 * <p>Tensor bytes are streamed from their native memory into the file, never copied whole (a CUDA
 * storage is copied to host memory one storage at a time). The file is replaced atomically: the
 * path holds the complete old file or the complete new one whatever kills the process (see
 * {@link SaveOptions#fsync(boolean)}; temporary files are described in the package docs).
 *
 * <p>Tensors must stay alive (not closed) until {@code save} returns.
 *
 * <p>Thread safety: stateless; saves from several threads at once are safe, to the same target
 * too (each writes its own temporary file and renames it over the target, so the target is
 * always one whole save, the last to rename). The tree being saved — and a {@link
 * LoadedCheckpoint} whose tensors it refers to — must not be changed or used by another thread
 * during the save.
 */
public final class TorchSaver {
  private TorchSaver() {}

  /** Saves {@code tree} with {@link SaveOptions#defaults()}. */
  public static void save(Path path, Object tree) throws CheckpointException {
    save(path, tree, null, SaveOptions.defaults());
  }

  /** Saves {@code tree}, whose tensor leaves are LibTorch tensors and {@link Parameter}s. */
  public static void save(Path path, Object tree, SaveOptions options) throws CheckpointException {
    save(path, tree, null, options);
  }

  /** Saves what {@code checkpoint} holds: its whole tree, as loaded. */
  public static void save(Path path, LoadedCheckpoint checkpoint, SaveOptions options)
      throws CheckpointException {
    Objects.requireNonNull(checkpoint, "checkpoint");
    save(path, checkpoint.root(), checkpoint, options);
  }

  /**
   * Saves {@code tree}, whose {@link io.ckpt4j.value.TensorRef} leaves (if any) belong to
   * {@code source} (may be null when there are none): e.g. a loaded state dict with renamed keys.
   * {@code source} must stay open until this returns.
   */
  public static void save(Path path, Object tree, LoadedCheckpoint source, SaveOptions options)
      throws CheckpointException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(options, "options");
    Pickled pickled = pickle(tree, source, options, path.toString());
    String root = TorchArchive.rootName(path);
    AtomicFile.write(path, options.fsync(), temp -> TorchArchive.write(temp, root,
        pickled.pickle(), pickled.storages(), options.hostCopiesForTesting(), options.progress()));
  }

  /** A tree's pickle and the storages it names, ready for {@link TorchArchive#write}. */
  record Pickled(byte[] pickle, List<SavedStorages.Entry> storages) {}

  /** Pickles {@code tree} as torch.save does; {@code where} names the target in errors. */
  static Pickled pickle(Object tree, LoadedCheckpoint source, SaveOptions options, String where)
      throws CheckpointException {
    SavedStorages storages = new SavedStorages(options.mapLocation());
    try {
      TreePaths paths = TreePaths.walk(tree, source != null);
      byte[] pickle = PickleWriter.toBytes(tree, new TensorPickler(storages, source, paths));
      return new Pickled(pickle, storages.entries());
    } catch (RuntimeException e) {
      // LibTorch reports through unchecked exceptions (with C++ traces): one line of it.
      throw new CheckpointException(Kind.NATIVE,
          "cannot save " + where + ": " + CheckpointException.firstLine(e), e);
    }
  }
}
