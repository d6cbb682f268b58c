// Where vdiskd listens for control requests unless its config says otherwise.

public enum ControlSocket {
    /// The path the shipped unit's RuntimeDirectory gives the socket, and vdiskctl's default.
    public static let defaultPath = "/run/vdiskd/control.sock"
}
