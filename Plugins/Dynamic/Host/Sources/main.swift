// `axon` with no backend compiled in: every backend comes from a plugin on the plugin path
// (AXON_PLUGIN_PATH, plugins/ beside this executable, ~/.local/share/axon/plugins).
import AxonCommands

AxonCommand.runLoadingPlugins()
