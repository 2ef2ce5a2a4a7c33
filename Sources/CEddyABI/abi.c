/* The header compiled once as C with the target's flags (SwiftPM needs a source). */
#include "CEddyABI.h"
