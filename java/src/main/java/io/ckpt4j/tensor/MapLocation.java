package io.ckpt4j.tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * torch.load's {@code map_location}: where each storage goes, given the location saved with it.
 *
 * <p>The forms Python users know: {@link #none()} (the saved device, as {@code map_location=None}),
 * {@link #to(String)} (every storage to one device: {@code "cpu"}, {@code "cuda:0"}),
 * {@link #remap(Map)} (a dict such as {@code {"cuda:1": "cuda:0"}}; locations it does not name stay
 * as saved) and {@link #of(UnaryOperator)} (a function of the saved location; returning null
 * keeps the saved one, as Python's callable returning None does).
 */
@FunctionalInterface
public interface MapLocation {
  /** The target location for a storage saved at {@code savedLocation}; null means "as saved". */
  String map(String savedLocation);

  /** Every storage where it was saved. */
  static MapLocation none() {
    return saved -> saved;
  }

  /** Every storage to {@code device} ("cpu", "cuda", "cuda:1"). */
  static MapLocation to(String device) {
    Objects.requireNonNull(device, "device");
    return saved -> device;
  }

  /** Saved locations named in {@code map} go where it says; others stay as saved. */
  static MapLocation remap(Map<String, String> map) {
    Map<String, String> copy = new LinkedHashMap<>(map);
    return saved -> copy.getOrDefault(saved, saved);
  }

  /** A function of the saved location. */
  static MapLocation of(UnaryOperator<String> function) {
    Objects.requireNonNull(function, "function");
    return function::apply;
  }

  /**
   * Parses the CLI form: empty or "none" for {@link #none()}, "cuda:1=cuda:0,cuda:2=cpu" for a
   * remap, anything else a device for {@link #to(String)}.
   */
  static MapLocation parse(String text) {
    if (text == null || text.isBlank() || text.equals("none")) return none();
    if (!text.contains("=")) return to(text.trim());
    Map<String, String> map = new LinkedHashMap<>();
    for (String pair : text.split(",")) {
      String[] kv = pair.split("=", 2);
      if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
        throw new IllegalArgumentException(
            "map_location entry '" + pair + "' is not FROM=TO (e.g. cuda:1=cuda:0)");
      }
      map.put(kv[0].trim(), kv[1].trim());
    }
    return remap(map);
  }
}
