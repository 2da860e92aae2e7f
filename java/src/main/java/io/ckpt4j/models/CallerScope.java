package io.ckpt4j.models;

import java.util.Iterator;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Hands a result made inside a method's own {@link PointerScope} to the caller as if the caller
 * had made it: attached to the caller's innermost open scope that takes it (the one JavaCPP
 * would have attached it to), or, with no such scope, owned by the caller alone (to close).
 */
final class CallerScope {
  private CallerScope() {}

  /**
   * Adopts {@code result}, which holds exactly one reference and is attached to no scope (it
   * was retained inside a scope that has since closed).
   */
  static <P extends Pointer> P adopt(P result) {
    Iterator<PointerScope> scopes = PointerScope.getScopeIterator();
    while (scopes != null && scopes.hasNext()) {
      try {
        scopes.next().attach(result);
      } catch (IllegalArgumentException notForThisClass) {
        continue; // a scope limited to other classes, as JavaCPP's own attach skips it
      }
      result.releaseReference(); // the scope's reference is now the only one
      break;
    }
    return result;
  }
}
