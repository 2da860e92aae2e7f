package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.UnsupportedGlobalException;
import io.ckpt4j.tensor.TensorMaterializer;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PythonTypes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens any checkpoint by its content (the extension means nothing: .pt .pth .pkl .bin .ckpt are
 * all the same thing) and hands it to the reader for its format. A Hugging Face sharded
 * checkpoint is opened through its index ({@code model.safetensors.index.json}) or the directory
 * holding it, a torch.distributed.checkpoint through its directory or {@code .metadata} (see
 * {@link CheckpointSource}).
 */
public final class CheckpointLoader {
  private CheckpointLoader() {}

  /** torch.load: reads {@code file} as {@code options} say. */
  public static LoadedCheckpoint load(Path file, LoadOptions options) throws CheckpointException {
    Loaded loaded = read(file, options);
    TensorMaterializer materializer = new TensorMaterializer(loaded.storages(),
        options.mapLocation(),
        options.mmap() ? TensorMaterializer.Mode.MMAP : TensorMaterializer.Mode.READ,
        options.readThreads());
    LoadedCheckpoint checkpoint = new LoadedCheckpoint(file, loaded, materializer);
    if (!options.mmap()) {
      try {
        checkpoint.preloadAll();
      } catch (CheckpointException e) {
        checkpoint.close();
        throw e;
      }
    }
    return checkpoint;
  }

  /** The format of {@code path}, from its first bytes (or its layout: a shard index, a directory). */
  public static Format detect(Path path) throws CheckpointException {
    CheckpointSource source = CheckpointSource.of(path);
    if (source.kind() == CheckpointSource.Kind.HF_INDEX) return Format.HF_SHARDED;
    if (source.kind() == CheckpointSource.Kind.DCP) return Format.DCP;
    Path file = source.file();
    try (FileChannel channel = open(file);
        FormatSniffer.Sniffed sniffed = FormatSniffer.sniff(file, channel)) {
      return sniffed.format();
    } catch (IOException e) {
      throw wrap(file, e);
    }
  }

  /** What ckpt4j says about a TorchScript or LibTorch archive (why it reads no data from it). */
  public static String archiveNote(Path file) throws CheckpointException {
    return ZipCheckpointReader.archiveRefusal(file);
  }

  /** Parses the checkpoint's structure (no tensor bytes read): a file, a shard index, a directory. */
  static Loaded read(Path path, LoadOptions options) throws CheckpointException {
    CheckpointSource source = CheckpointSource.of(path);
    return switch (source.kind()) {
      case HF_INDEX -> ShardedReader.read(source.file(), options);
      case DCP -> DcpReader.read(source.file(), options);
      case FILE -> readFileExplained(source.file(), options);
    };
  }

  /**
   * {@link #readFile}; a refused global in a whole pickled nn.Module ({@code torch.save(model)})
   * is reported as that, with the option that reads it (read again as inert objects to tell).
   */
  private static Loaded readFileExplained(Path file, LoadOptions options)
      throws CheckpointException {
    try {
      return readFile(file, options);
    } catch (UnsupportedGlobalException e) {
      if (options.inertObjects()) throw e;
      PyObject module;
      try {
        module = PickledModules.near(readFile(file, options.inertObjects(true)).root());
      } catch (CheckpointException again) {
        throw e;
      }
      if (module == null) throw e;
      throw new UnsupportedGlobalException(e.module(), e.name(), file + " is a whole pickled"
          + " nn.Module (" + PythonTypes.printable(module.className()) + ", torch.save(model)):"
          + " if you trust it, read all its classes as inert objects and its weights with"
          + " LoadOptions.inertObjects(true) and StateDict.fromWholeModule (CLI: --inert-objects;"
          + " convert --state-dict); in detail: " + e.getMessage(), e);
    }
  }

  /** Parses one checkpoint file's structure, by its format (no tensor bytes read). */
  static Loaded readFile(Path file, LoadOptions options) throws CheckpointException {
    GlobalResolver resolver = CheckpointGlobals.resolver(options);
    try (FileChannel channel = open(file);
        FormatSniffer.Sniffed sniffed = FormatSniffer.sniff(file, channel)) {
      return switch (sniffed.format()) {
        case ZIP -> ZipCheckpointReader.read(file, sniffed.zip(), resolver);
        case LEGACY -> LegacyReader.read(file, channel, resolver);
        case SAFETENSORS -> SafetensorsLoader.read(file, channel);
        case TORCHSCRIPT, LIBTORCH -> throw new CheckpointException(Kind.WRONG_LOADER,
            ZipCheckpointReader.archiveRefusal(file, sniffed.zip()));
        case HF_SHARDED, DCP -> throw new IllegalStateException(
            "a file's bytes never sniff as a layout of several files");
      };
    } catch (IOException e) {
      throw wrap(file, e);
    }
  }

  private static FileChannel open(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.READ);
  }

  private static CheckpointException wrap(Path file, IOException e) {
    if (e instanceof CheckpointException c) return c;
    if (e instanceof NoSuchFileException) {
      return new CheckpointException(Kind.NOT_FOUND, "no such file: " + file, e);
    }
    return new CheckpointException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), e);
  }

  static ByteBuffer head(FileChannel channel, int max) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(max, channel.size()));
    while (buf.hasRemaining() && channel.read(buf, buf.position()) > 0) {
      // keep reading until the head is full or the file ends
    }
    return buf.flip();
  }
}
