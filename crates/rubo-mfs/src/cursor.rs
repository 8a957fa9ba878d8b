//! A walk from the MFS root down a path, keeping the directories passed, so
//! that a change at the bottom can be written back up: each directory is
//! re-encoded with its changed child and linked into its parent, up to a new
//! root (copy-on-write; untouched directories keep their CIDs).

use rubo_types::{Block, Cid};
use rubo_unixfs::{CidPrefix, DirEntry};

use crate::dir::{Dir, DirConfig};
use crate::error::MfsError;
use crate::node::{Child, classify, load_child, node_size};
use crate::store::{Ctx, Store};

struct Frame {
    /// Name in the parent ("" for the root).
    name: String,
    dir: Dir,
}

/// What a name in the current directory is (short-lived: not worth boxing).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Found {
    Missing,
    Dir(Box<Dir>),
    File(Block, DirEntry),
}

pub(crate) struct Cursor {
    frames: Vec<Frame>,
}

impl Cursor {
    /// Starts at the root, whose nodes take `root_prefix` (Kubo sets the MFS
    /// root's builder from `Import.CidVersion`/`Import.HashFunction`).
    pub(crate) fn open<S: Store + ?Sized>(
        ctx: &mut Ctx<'_, S>,
        root: &Cid,
        root_prefix: CidPrefix,
    ) -> Result<Self, MfsError> {
        let block = ctx.get(root)?;
        let tsize = node_size(&block)?;
        match classify(block.clone(), tsize, Some(root_prefix))? {
            Child::Dir(d) => Ok(Self { frames: vec![Frame { name: String::new(), dir: *d }] }),
            Child::File(_) => {
                let kind = crate::node::decode_pb(&block)
                    .and_then(|n| crate::node::decode_data(&block, &n))
                    .map_or_else(|_| "Raw".to_string(), |d| go_type_name(d.kind).to_string());
                Err(MfsError::RootNotDirectory(kind))
            }
        }
    }

    /// The directory walked to so far.
    pub(crate) fn top(&mut self) -> &mut Dir {
        // `frames` always holds the root.
        let i = self.frames.len() - 1;
        &mut self.frames[i].dir
    }

    pub(crate) fn top_ref(&self) -> &Dir {
        &self.frames[self.frames.len() - 1].dir
    }

    /// Names from the root to the current directory.
    pub(crate) fn parts(&self) -> Vec<String> {
        self.frames.iter().skip(1).map(|f| f.name.clone()).collect()
    }

    pub(crate) fn push(&mut self, name: &str, dir: Dir) {
        self.frames.push(Frame { name: name.to_string(), dir });
    }

    /// Looks `name` up in the current directory, loading what it names.
    pub(crate) fn find<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, name: &str) -> Result<Found, MfsError> {
        let Some(entry) = self.top().get(ctx, name)? else {
            return Ok(Found::Missing);
        };
        Ok(match load_child(ctx, &entry.cid, entry.tsize)? {
            Child::Dir(d) => Found::Dir(d),
            Child::File(b) => Found::File(b, entry),
        })
    }

    /// boxo `DirLookup` down to the parent of the last component: every
    /// component before it must be a directory.
    pub(crate) fn walk_to_parent<S: Store + ?Sized>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        parts: &[String],
    ) -> Result<(), MfsError> {
        let n = parts.len().saturating_sub(1);
        for (i, p) in parts[..n].iter().enumerate() {
            match self.find(ctx, p)? {
                Found::Missing => return Err(MfsError::NotExist),
                Found::Dir(d) => self.push(p, *d),
                Found::File(..) => return Err(MfsError::CannotAccess(parts[..(i + 2).min(parts.len())].join("/"))),
            }
        }
        Ok(())
    }

    /// boxo `DirLookup` of a whole path, ending in the directory it names
    /// (`Ok(false)`: the path names something else, the cursor is at its parent).
    pub(crate) fn walk_to_dir<S: Store + ?Sized>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        parts: &[String],
    ) -> Result<WalkEnd, MfsError> {
        let Some(last) = parts.last() else {
            return Ok(WalkEnd::Dir);
        };
        self.walk_to_parent(ctx, parts)?;
        match self.find(ctx, last)? {
            Found::Missing => Err(MfsError::NotExist),
            Found::Dir(d) => {
                self.push(last, *d);
                Ok(WalkEnd::Dir)
            }
            Found::File(b, e) => Ok(WalkEnd::File(b, e)),
        }
    }

    /// Writes the walk back: every directory from the bottom up gets its
    /// child again (boxo's `updateChildEntry`, a replacing `AddChild`, which
    /// can also convert a directory between basic and HAMT) and is
    /// re-encoded if that changed it. Returns the root.
    pub(crate) fn commit<S: Store + ?Sized>(self, ctx: &mut Ctx<'_, S>, cfg: &DirConfig) -> Result<Cid, MfsError> {
        let mut frames = self.frames;
        let mut up: Option<(String, Cid, u64)> = None;
        let mut root = None;
        while let Some(mut f) = frames.pop() {
            if let Some((name, cid, tsize)) = up.take() {
                f.dir.add(ctx, &name, cid, tsize, cfg)?;
            }
            let (cid, tsize) = f.dir.encode(ctx)?;
            root = Some(cid);
            up = Some((f.name, cid, tsize));
        }
        root.ok_or(MfsError::NotExist)
    }
}

/// Where [`Cursor::walk_to_dir`] ended.
#[allow(clippy::large_enum_variant)]
pub(crate) enum WalkEnd {
    Dir,
    File(Block, DirEntry),
}

/// Go's `pb.Data_DataType.String()`.
pub(crate) fn go_type_name(t: rubo_unixfs::pb::DataType) -> &'static str {
    use rubo_unixfs::pb::DataType;
    match t {
        DataType::Raw => "Raw",
        DataType::Directory => "Directory",
        DataType::File => "File",
        DataType::Metadata => "Metadata",
        DataType::Symlink => "Symlink",
        DataType::HamtShard => "HAMTShard",
    }
}
