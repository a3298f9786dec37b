//! An Xvfb server of the test's own, and what a window manager and a user do to a window on
//! it, through x11rb (no other X tools): find the window by its name, place it, focus it,
//! type keys (XTEST), take a screenshot, ask it to close (`WM_DELETE_WINDOW`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _, EventMask, ImageFormat, InputFocus, MapState, Window,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::CURRENT_TIME;

/// How long Xvfb may take to start.
const START: Duration = Duration::from_secs(30);

/// How often the window list is looked at while waiting for a window.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

/// An Xvfb server on a display number it picked itself, stopped on drop.
pub struct Xvfb {
    child: Child,
    /// The display, e.g. `:3`.
    pub display: String,
}

impl Xvfb {
    /// Starts `Xvfb` with one `width`×`height` screen of depth 24, no TCP; panics (saying how
    /// to install it) when it is not installed.
    pub fn start(width: u32, height: u32) -> Xvfb {
        let screen = format!("{width}x{height}x24");
        // -displayfd 1: the server writes the display number it took to its stdout once ready
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", &screen, "-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    panic!("Xvfb is not installed (apt-get install xvfb; scripts/test.sh installs it): {e}")
                }
                _ => panic!("cannot start Xvfb: {e}"),
            });
        let stdout = child.stdout.take().expect("Xvfb's stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            lines.for_each(drop);
        });
        let number = match rx.recv_timeout(START) {
            Ok(Some(line)) => line.trim().parse::<u32>().unwrap_or_else(|_| panic!("Xvfb wrote {line:?}, not a display number")),
            Ok(None) => panic!("Xvfb ended before it was ready: {:?}", child.wait()),
            Err(_) => panic!("Xvfb was not ready within {START:?}"),
        };
        Xvfb { child, display: format!(":{number}") }
    }

    /// A client connection to the server.
    pub fn connect(&self) -> X {
        let (conn, screen) = RustConnection::connect(Some(&self.display)).unwrap_or_else(|e| panic!("connect to {}: {e}", self.display));
        let root = conn.setup().roots[screen].root;
        X { conn, root }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of the server.
pub struct X {
    conn: RustConnection,
    root: Window,
}

/// A screenshot: 8-bit RGB, row by row.
pub struct Shot {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Red, green, blue of each pixel.
    pub rgb: Vec<u8>,
}

impl X {
    fn atom(&self, name: &str) -> u32 {
        self.conn.intern_atom(false, name.as_bytes()).expect("intern_atom").reply().expect("atom").atom
    }

    /// The window's title (`_NET_WM_NAME`, else `WM_NAME`), if it has one.
    fn title(&self, window: Window) -> Option<String> {
        let utf8 = self.atom("_NET_WM_NAME");
        for (property, kind) in [(utf8, self.atom("UTF8_STRING")), (AtomEnum::WM_NAME.into(), AtomEnum::STRING.into())] {
            let reply = self.conn.get_property(false, window, property, kind, 0, 1024).ok()?.reply().ok()?;
            if !reply.value.is_empty() {
                return Some(String::from_utf8_lossy(&reply.value).into_owned());
            }
        }
        None
    }

    /// Waits until a top-level window titled `title` is on the screen (mapped and viewable).
    pub fn window_titled(&self, title: &str, patience: Duration) -> Window {
        let deadline = Instant::now() + patience;
        loop {
            let tree = self.conn.query_tree(self.root).expect("query_tree").reply().expect("window tree");
            for window in tree.children {
                let viewable = self.conn.get_window_attributes(window).ok().and_then(|c| c.reply().ok()).is_some_and(|a| a.map_state == MapState::VIEWABLE);
                if viewable && self.title(window).as_deref() == Some(title) {
                    return window;
                }
            }
            assert!(Instant::now() < deadline, "no window titled {title:?} appeared within {patience:?}");
            std::thread::sleep(LOOK_AGAIN);
        }
    }

    /// Places the window at the top left corner, `width`×`height`, and gives it the keyboard
    /// focus (what a window manager does).
    pub fn place_and_focus(&self, window: Window, width: u32, height: u32) {
        self.conn.configure_window(window, &ConfigureWindowAux::new().x(0).y(0).width(width).height(height)).expect("configure_window");
        self.conn.set_input_focus(InputFocus::PARENT, window, CURRENT_TIME).expect("set_input_focus");
        self.conn.sync().expect("sync");
    }

    /// The keycodes of the keyboard map's keysyms.
    fn keycodes(&self) -> HashMap<u32, u8> {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self.conn.get_keyboard_mapping(min, max - min + 1).expect("get_keyboard_mapping").reply().expect("keyboard map");
        let per = usize::from(map.keysyms_per_keycode).max(1);
        let mut codes = HashMap::new();
        for (i, syms) in map.keysyms.chunks(per).enumerate() {
            for sym in syms {
                codes.entry(*sym).or_insert(min + i as u8);
            }
        }
        codes
    }

    /// Presses and releases the key of `keysym` (XTEST: as the keyboard would), e.g. `'2' as
    /// u32`, [`RETURN`], [`ESCAPE`].
    pub fn key(&self, keysym: u32) {
        let code = *self.keycodes().get(&keysym).unwrap_or_else(|| panic!("no key for keysym {keysym:#x}"));
        for kind in [x11rb::protocol::xproto::KEY_PRESS_EVENT, x11rb::protocol::xproto::KEY_RELEASE_EVENT] {
            self.conn.xtest_fake_input(kind, code, CURRENT_TIME, self.root, 0, 0, 0).expect("fake_input");
        }
        self.conn.sync().expect("sync");
    }

    /// What the window shows (read from the screen: nothing may cover it).
    pub fn screenshot(&self, window: Window) -> Shot {
        let geometry = self.conn.get_geometry(window).expect("get_geometry").reply().expect("geometry");
        let at = self.conn.translate_coordinates(window, self.root, 0, 0).expect("translate").reply().expect("position");
        let (width, height) = (geometry.width, geometry.height);
        let image = self.conn.get_image(ImageFormat::Z_PIXMAP, self.root, at.dst_x, at.dst_y, width, height, !0).expect("get_image").reply().expect("image");
        let bpp = self.conn.setup().pixmap_formats.iter().find(|f| f.depth == image.depth).map(|f| f.bits_per_pixel);
        assert_eq!((image.depth, bpp), (24, Some(32)), "the root window's pixel format");
        let rgb = image.data.chunks_exact(4).flat_map(|bgrx| [bgrx[2], bgrx[1], bgrx[0]]).collect();
        Shot { width: u32::from(width), height: u32::from(height), rgb }
    }

    /// Asks the window to close as a window manager does when its close button is clicked:
    /// a `WM_PROTOCOLS` client message with `WM_DELETE_WINDOW`, which it must have said it takes.
    pub fn close(&self, window: Window) {
        let (protocols, delete) = (self.atom("WM_PROTOCOLS"), self.atom("WM_DELETE_WINDOW"));
        let listed = self.conn.get_property(false, window, protocols, AtomEnum::ATOM, 0, 64).expect("get_property").reply().expect("WM_PROTOCOLS");
        assert!(listed.value32().is_some_and(|mut atoms| atoms.any(|a| a == delete)), "the window does not take WM_DELETE_WINDOW");
        let message = ClientMessageEvent::new(32, window, protocols, [delete, CURRENT_TIME, 0, 0, 0]);
        self.conn.send_event(false, window, EventMask::NO_EVENT, message).expect("send_event");
        self.conn.sync().expect("sync");
    }
}

/// The Return key's keysym.
pub const RETURN: u32 = 0xff0d;

/// The Escape key's keysym.
pub const ESCAPE: u32 = 0xff1b;

impl Shot {
    /// How many distinct colours the columns `x0..x1` have, and the share of their pixels that
    /// differ from the most common colour (the background).
    pub fn variety(&self, x0: u32, x1: u32) -> (usize, f64) {
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for y in 0..self.height {
            for x in x0..x1.min(self.width) {
                let i = ((y * self.width + x) * 3) as usize;
                *counts.entry([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]).or_default() += 1;
            }
        }
        let total: usize = counts.values().sum();
        let background = counts.values().copied().max().unwrap_or(0);
        (counts.len(), (total - background) as f64 / total.max(1) as f64)
    }

    /// Writes the screenshot as a PNG file.
    pub fn save_png(&self, path: &Path) {
        let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(&self.rgb).expect("png data");
        writer.finish().expect("png end");
    }
}
