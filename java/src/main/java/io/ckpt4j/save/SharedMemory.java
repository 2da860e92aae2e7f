package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * What {@code safetensors.torch.save_file} refuses: two tensors whose elements overlap in one
 * storage (tied weights, overlapping views) — a safetensors file holds each tensor's bytes once,
 * so loading would silently untie them. Disjoint views of one storage are fine, as in Python.
 */
final class SharedMemory {
  /** A tensor's byte span in its storage. */
  private record Span(String key, long begin, long end) {}

  private SharedMemory() {}

  /** Throws naming the first two overlapping tensors of {@code tensors}, if any. */
  static void refuse(Map<String, Tensor> tensors) throws CheckpointException {
    Map<Long, List<Span>> byStorage = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      if (t.numel() == 0) continue;
      try (Storage storage = t.storage()) {
        byStorage.computeIfAbsent(storage.unsafeGetStorageImpl().address(), k -> new ArrayList<>())
            .add(span(e.getKey(), t));
      }
    }
    for (List<Span> spans : byStorage.values()) {
      spans.sort(Comparator.comparingLong(Span::begin));
      Span reach = spans.get(0);
      for (Span s : spans.subList(1, spans.size())) {
        if (s.begin() < reach.end()) {
          throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
              "cannot save '" + reach.key() + "' and '" + s.key()
              + "' in safetensors shards: they share memory (tied weights or overlapping views),"
              + " which safetensors refuses (save_file: \"Some tensors share memory\"); keep one"
              + " of them (transformers keeps one name of each tied group) or save torch shards");
        }
        if (s.end() > reach.end()) reach = s;
      }
    }
  }

  /** Bytes [offset, offset + (1 + Σ (size - 1) × stride) elements) of a non-empty tensor. */
  private static Span span(String key, Tensor t) {
    long item = t.element_size();
    long last = 0;
    try (LongArrayRef sizes = t.sizes(); LongArrayRef strides = t.strides()) {
      for (int d = 0; d < sizes.size(); d++) {
        last = Math.addExact(last, Math.multiplyExact(sizes.get(d) - 1, strides.get(d)));
      }
    }
    long begin = Math.multiplyExact(t.storage_offset(), item);
    return new Span(key, begin, Math.addExact(begin, Math.multiplyExact(last + 1, item)));
  }
}
