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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Opens any checkpoint by its content (the extension means nothing: .pt .pth .pkl .bin .ckpt are
 * all the same thing) and hands it to the reader for its format. A Hugging Face sharded
 * checkpoint is opened through its index ({@code model.safetensors.index.json}) or the directory
 * holding it, a torch.distributed.checkpoint through its directory or {@code .metadata} (see
 * {@link CheckpointSource}).
 *
 * <p>Thread safety: stateless; any number of threads may load at the same time, the same file
 * included (each load opens the file on its own and returns its own {@link LoadedCheckpoint},
 * which that thread closes). tests/soak/soak.sh runs 16 threads of eager and mmap loads.
 */
public final class CheckpointLoader {
  private CheckpointLoader() {}

  /** torch.load: reads {@code file} as {@code options} say. */
  public static LoadedCheckpoint load(Path file, LoadOptions options) throws CheckpointException {
    CheckpointTree tree = describe(file, options);
    TensorMaterializer materializer = new TensorMaterializer(tree.storages(),
        options.mapLocation(),
        options.mmap() ? TensorMaterializer.Mode.MMAP : TensorMaterializer.Mode.READ,
        options.readThreads());
    LoadedCheckpoint checkpoint = new LoadedCheckpoint(tree, materializer);
    if (!options.mmap()) {
      try {
        checkpoint.preloadAll(options.progress());
      } catch (CheckpointException | RuntimeException | Error e) {
        // Any failure, an OutOfMemoryError from JavaCPP's maxPhysicalBytes included: the
        // caller never sees this checkpoint, so it is closed here.
        checkpoint.close();
        throw e;
      }
    }
    return checkpoint;
  }

  /**
   * What {@code path} holds, without reading tensor bytes or loading LibTorch: Python's {@code
   * torch.load(f, map_location="meta")}. The globals options of {@code options} apply; its
   * map_location, mmap and thread settings do not (no tensor is made).
   */
  public static CheckpointTree describe(Path path, LoadOptions options) throws CheckpointException {
    return new CheckpointTree(path, read(path, options));
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

  /**
   * What ckpt4j says about a TorchScript or LibTorch archive or an AOTInductor package (why it
   * reads no data from it).
   */
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
   * {@link #readFile}; when a global is refused, the file is read once more with every global
   * recorded and read as an inert object (nothing runs either way) so that the error tells what
   * the file is: a whole pickled nn.Module ({@code torch.save(model)}) and the option that reads
   * it, or every global the file needs in one hint that makes it load, or that it runs code.
   */
  private static Loaded readFileExplained(Path file, LoadOptions options)
      throws CheckpointException {
    try {
      return readFile(file, options);
    } catch (UnsupportedGlobalException e) {
      if (options.inertObjects() || e.where() == null
          || e.qualifiedName().equals(CheckpointGlobals.GETATTR)) {
        throw e;
      }
      Set<String> needed = new LinkedHashSet<>();
      Loaded inert;
      try {
        inert = readFile(file, options, CheckpointGlobals.resolver(options).orElse(
            GlobalResolver.inert(name -> {
              needed.add(name);
              return true;
            })));
      } catch (CheckpointException again) {
        throw e;
      }
      PyObject module = PickledModules.near(inert.root());
      boolean runsCode = needed.stream().anyMatch(CheckpointGlobals::runsCode);
      if (module != null && !runsCode) {
        throw new UnsupportedGlobalException(e.module(), e.name(), e.where(), file + " is a whole"
            + " pickled nn.Module (" + PythonTypes.printable(module.className())
            + ", torch.save(model)): if you trust it, read all its classes as inert objects and"
            + " its weights with LoadOptions.inertObjects(true) and StateDict.fromWholeModule"
            + " (CLI: --inert-objects; convert --state-dict); in detail: " + e.getMessage(), e);
      }
      if (needed.size() <= 1) throw e;
      throw new UnsupportedGlobalException(e.module(), e.name(), e.where(),
          CheckpointGlobals.refusal(List.copyOf(needed), e.where()), e);
    }
  }

  /** Parses one checkpoint file's structure, by its format (no tensor bytes read). */
  static Loaded readFile(Path file, LoadOptions options) throws CheckpointException {
    return readFile(file, options, CheckpointGlobals.resolver(options));
  }

  private static Loaded readFile(Path file, LoadOptions options, GlobalResolver resolver)
      throws CheckpointException {
    try (FileChannel channel = open(file);
        FormatSniffer.Sniffed sniffed = FormatSniffer.sniff(file, channel)) {
      return switch (sniffed.format()) {
        case ZIP -> ZipCheckpointReader.read(file, sniffed.zip(), resolver);
        case LEGACY -> LegacyReader.read(file, channel, resolver);
        case SAFETENSORS -> SafetensorsLoader.read(file, channel);
        case PT2 -> Pt2Reader.read(file, sniffed.zip(), options.pt2Model());
        case TORCHSCRIPT, LIBTORCH, AOTINDUCTOR -> throw new CheckpointException(
            Kind.WRONG_LOADER, ZipCheckpointReader.archiveRefusal(file, sniffed.zip()));
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
