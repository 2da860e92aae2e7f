package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.dcp.ChunkCover;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.layout.dcp.DcpNesting;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.value.AssembledSource;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A torch.distributed.checkpoint directory as one state_dict: what {@code dcp_to_torch_save}
 * gives ({@code _EmptyStateDictLoadPlanner}: every key of the metadata, tensors whole, nested back
 * along {@code planner_data}). Opening reads the {@code .metadata} only — through the restricted
 * unpickler with {@link DcpGlobals}, as data — and checks it: every chunk inside its tensor, the
 * chunks covering each tensor once, every chunk and value placed in a data file that exists and is
 * long enough. A tensor is a storage {@link AssembledSource assembled} from its chunks when first
 * touched (each chunk a {@code torch.save} archive inside a {@code .distcp} file, read by the zip
 * reader); non-tensor values (bytes entries, torch.save'd too) are read at once, since they are
 * part of the tree.
 */
final class DcpReader {
  /** A .metadata larger than this is no metadata anyone wrote (it grows with chunk counts). */
  private static final long MAX_METADATA_BYTES = 1L << 30;
  /** Tensors from a DCP load are on the CPU: DCP's reader loads with map_location="cpu". */
  private static final String CPU = "cpu";

  private final Path dir;
  private final Path metadataFile;
  private final GlobalResolver resolver;
  private final Map<Path, Long> fileSizes = new HashMap<>();

  private DcpReader(Path metadataFile, LoadOptions options) {
    this.metadataFile = metadataFile;
    this.dir = metadataFile.toAbsolutePath().getParent();
    this.resolver = CheckpointGlobals.resolver(options);
  }

  static Loaded read(Path metadataFile, LoadOptions options) throws CheckpointException {
    return new DcpReader(metadataFile, options).read();
  }

  /** The checked metadata of the DCP checkpoint whose {@code .metadata} is {@code file}. */
  static DcpMetadata metadata(Path file) throws CheckpointException {
    String where = file.toString();
    ByteBuffer bytes;
    try {
      long size = Files.size(file);
      if (size > MAX_METADATA_BYTES) {
        throw new CheckpointException(Kind.LIMIT_EXCEEDED, where + " is " + size
            + " bytes, more than the " + MAX_METADATA_BYTES + " a DCP .metadata may have");
      }
      bytes = ByteBuffer.wrap(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e),
          "cannot read " + where + ": " + e.getMessage(), e);
    }
    Object root = Pickles.load(bytes, DcpGlobals.resolver(), null, where);
    return DcpMetadataReader.read(root, where);
  }

  private Loaded read() throws CheckpointException {
    DcpMetadata metadata = metadata(metadataFile);
    Map<String, Object> flat = new LinkedHashMap<>();
    List<StorageRef> storages = new ArrayList<>();
    for (Map.Entry<String, DcpMetadata.Entry> e : metadata.entries().entrySet()) {
      String fqn = e.getKey();
      if (e.getValue() instanceof DcpMetadata.TensorEntry t) {
        TensorRef tensor = tensor(fqn, t, metadata);
        storages.add(tensor.storage());
        flat.put(fqn, tensor);
      } else {
        DcpMetadata.StorageInfo info = placed(metadata, DcpMetadata.Index.ofBytes(fqn), fqn);
        Loaded value = ZipCheckpointReader.readEmbedded(dataFile(info, fqn), info.offset(),
            info.length(), resolver);
        storages.addAll(value.storages());
        flat.put(fqn, value.root());
      }
    }
    return new Loaded(Format.DCP, DcpNesting.unflatten(flat, metadata.paths()), storages,
        List.of());
  }

  /** A tensor over a storage assembled from its chunks, each read on first use. */
  private TensorRef tensor(String fqn, DcpMetadata.TensorEntry t, DcpMetadata metadata)
      throws CheckpointException {
    long[] size = t.size();
    ChunkCover.check(fqn, size, t.chunks());
    DType dtype = DType.fromPythonName(t.dtype()).orElseThrow();
    List<AssembledSource.Piece> pieces = new ArrayList<>();
    for (DcpMetadata.Chunk chunk : t.chunks()) {
      DcpMetadata.StorageInfo info =
          placed(metadata, DcpMetadata.Index.ofChunk(fqn, chunk.offsets()), fqn);
      Path file = dataFile(info, fqn);
      String what = "chunk at " + Arrays.toString(chunk.offsets()) + " of '" + fqn + "'";
      pieces.add(new AssembledSource.Piece(chunk,
          () -> chunkTensor(file, info, what)));
    }
    long numel = 1;
    long[] stride = new long[size.length];
    for (int d = size.length - 1; d >= 0; d--) {
      stride[d] = numel;
      numel = Math.multiplyExact(numel, size[d]);
    }
    String where = metadataFile + " ('" + fqn + "')";
    StorageRef storage = StorageRef.of(fqn, dtype, CPU, numel, where);
    storage.bind(new AssembledSource(size, pieces));
    return TensorRef.create(storage, dtype, 0, size, stride, false, where);
  }

  /** The tensor of one chunk: the torch.save archive at the chunk's byte range. */
  private TensorRef chunkTensor(Path file, DcpMetadata.StorageInfo info, String what)
      throws CheckpointException {
    Loaded chunk = ZipCheckpointReader.readEmbedded(file, info.offset(), info.length(), resolver);
    if (chunk.root() instanceof TensorRef t) return t;
    throw new CheckpointException(Kind.MALFORMED_CONTAINER, "the " + what + " in " + file
        + " (bytes " + info.offset() + " to " + (info.offset() + info.length())
        + ") holds no tensor: the .distcp file and .metadata do not match; save it again");
  }

  private DcpMetadata.StorageInfo placed(DcpMetadata metadata, DcpMetadata.Index index,
      String fqn) throws CheckpointException {
    DcpMetadata.StorageInfo info = metadata.storage().get(index);
    if (info != null) return info;
    throw new CheckpointException(Kind.MALFORMED_CONTAINER, metadataFile + " names '" + fqn + "'"
        + (index.offset() == null ? "" : " (chunk at " + index.offset() + ")")
        + " but its storage_data does not place it in any file: corrupt metadata; save the"
        + " checkpoint again");
  }

  /** The data file {@code info} names, checked to exist and to hold the byte range. */
  private Path dataFile(DcpMetadata.StorageInfo info, String fqn) throws CheckpointException {
    Path file = DcpLayout.dataFile(dir, info.relativePath(), fqn);
    Long size = fileSizes.get(file);
    if (size == null) {
      if (!Files.isRegularFile(file)) {
        throw new CheckpointException(Kind.NOT_FOUND, "data file " + info.relativePath()
            + " of the DCP checkpoint " + dir + " is missing: its .metadata puts '" + fqn
            + "' there; copy every .distcp file beside the .metadata");
      }
      try {
        size = Files.size(file);
      } catch (IOException e) {
        throw new CheckpointException(CheckpointException.ioKind(e),
            "cannot read " + file + ": " + e.getMessage(), e);
      }
      fileSizes.put(file, size);
    }
    if (info.offset() > size || info.length() > size - info.offset()) {
      throw new CheckpointException(Kind.TRUNCATED, "data file " + file + " is " + size
          + " bytes, but its .metadata puts '" + fqn + "' at bytes " + info.offset() + " to "
          + (info.offset() + info.length()) + ": truncated file; copy it again");
    }
    return file;
  }
}
