/* libember.so is the static library linked whole, with only the ember_* symbols exported
 * (exports.map). CMake needs one source file per library target: this is it. */
#include "ember.h"
