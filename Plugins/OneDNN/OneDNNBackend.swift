// The oneDNN backend plugin. Its implementation arrives with the oneDNN issue; until then the
// module is an empty shell, compiled only so the `OneDNN` trait and product already exist.
#if OneDNN
import Backend
#endif
