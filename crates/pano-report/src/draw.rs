//! Draws laid-out pages into a PDF with krilla.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use krilla::Document;

use crate::layout::{Op, Page};
use crate::style::Rgb;
use crate::text::Fonts;
use crate::ReportError;

/// A PNG or JPEG as krilla embeds it: a JPEG's own bytes (no re-compression), a PNG's
/// pixels losslessly. Returns the image and its size in pixels.
pub fn embeddable_image(bytes: &[u8]) -> Result<(Image, (u32, u32)), String> {
    let data = bytes.to_vec().into();
    let image = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Image::from_jpeg(data, true)?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Image::from_png(data, true)?
    } else {
        return Err("not a PNG or JPEG".into());
    };
    let size = image.size();
    Ok((image, size))
}

fn paint(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: paint(c),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: paint(c),
        width,
        line_join: LineJoin::Round,
        line_cap: LineCap::Round,
        ..Stroke::default()
    }
}

pub struct Assets<'a> {
    pub fonts: &'a Fonts,
    pub radiograph: Image,
    pub logo: Option<Image>,
    pub title: String,
}

pub fn draw(pages: &[Page], size: (f32, f32), assets: &Assets) -> Result<Vec<u8>, ReportError> {
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(assets.title.clone())
            .creator("Pano".to_string())
            .language("en".to_string()),
    );
    for ops in pages {
        let settings = PageSettings::from_wh(size.0, size.1)
            .ok_or_else(|| ReportError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw_op(&mut surface, op, assets);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

fn draw_op(surface: &mut Surface, op: &Op, assets: &Assets) {
    match op {
        Op::Text {
            x,
            y,
            size,
            weight,
            colour,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*colour)));
            surface.draw_text(
                Point::from_xy(*x, *y),
                assets.fonts.pdf_font(*weight),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect {
            x,
            y,
            w,
            h,
            fill: f,
            stroke: s,
        } => {
            let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                return;
            };
            let mut builder = PathBuilder::new();
            builder.push_rect(rect);
            if let Some(path) = builder.finish() {
                surface.set_fill(f.map(fill));
                surface.set_stroke(s.map(|(c, width)| stroke(c, width)));
                surface.draw_path(&path);
            }
        }
        Op::Line {
            from,
            to,
            colour,
            width,
        } => {
            let mut builder = PathBuilder::new();
            builder.move_to(from.0, from.1);
            builder.line_to(to.0, to.1);
            if let Some(path) = builder.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*colour, *width)));
                surface.draw_path(&path);
            }
        }
        Op::Radiograph { x, y, w, h } => place(surface, &assets.radiograph, *x, *y, *w, *h),
        Op::Logo { x, y, w, h } => {
            if let Some(logo) = &assets.logo {
                place(surface, logo, *x, *y, *w, *h);
            }
        }
        Op::Outline {
            rings,
            colour,
            width,
        } => {
            let mut builder = PathBuilder::new();
            for ring in rings.iter().filter(|r| r.len() >= 2) {
                builder.move_to(ring[0].0, ring[0].1);
                for p in &ring[1..] {
                    builder.line_to(p.0, p.1);
                }
                builder.close();
            }
            if let Some(path) = builder.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*colour, *width)));
                surface.draw_path(&path);
            }
        }
    }
}

fn place(surface: &mut Surface, image: &Image, x: f32, y: f32, w: f32, h: f32) {
    let Some(size) = Size::from_wh(w, h) else {
        return;
    };
    surface.push_transform(&Transform::from_translate(x, y));
    surface.draw_image(image.clone(), size);
    surface.pop();
}
