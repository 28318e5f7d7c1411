//! Lays a report out on pages as plain drawing operations (no PDF yet), so the layout can be
//! tested on its own and drawn by one small module. Coordinates are PDF points from the
//! page's top-left corner, y downwards; text positions are baselines.

use pano_core::{Fdi, FindingKind};

use crate::content::{percent, Origin, PatientBlock, Report, ReportedFinding};
use crate::style::{self, Rgb};
use crate::teeth::tooth_name;
use crate::text::{Fonts, Weight};

/// The notice every page carries.
pub const DECISION_SUPPORT_NOTICE: &str =
    "AI findings support the dentist's diagnosis; they do not replace it.";
/// Added on every page of a report made by the random-weight test models.
pub const TEST_MODEL_NOTICE: &str =
    "Made by test models with random weights: these findings mean nothing and are not for diagnosis.";

const MARGIN: f32 = 36.0;
const FOOTER_HEIGHT: f32 = 28.0;

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        colour: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        colour: Rgb,
        width: f32,
    },
    /// The radiograph, scaled into this box.
    Radiograph { x: f32, y: f32, w: f32, h: f32 },
    /// The clinic's logo, scaled into this box.
    Logo { x: f32, y: f32, w: f32, h: f32 },
    /// Closed polylines in page coordinates.
    Outline {
        rings: Vec<Vec<(f32, f32)>>,
        colour: Rgb,
        width: f32,
    },
}

pub type Page = Vec<Op>;

/// Text flowing down pages: starts a new page when a block does not fit.
struct Flow<'a> {
    fonts: &'a Fonts,
    width: f32,
    height: f32,
    pages: Vec<Page>,
    y: f32,
}

impl<'a> Flow<'a> {
    fn new(fonts: &'a Fonts, (width, height): (f32, f32)) -> Self {
        Flow {
            fonts,
            width,
            height,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn bottom(&self) -> f32 {
        self.height - MARGIN - FOOTER_HEIGHT
    }

    /// Makes room for `h` points, on a new page when this one is full.
    fn ensure(&mut self, h: f32) {
        if self.y + h > self.bottom() && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, colour: Rgb, text: &str) {
        if !text.is_empty() {
            self.push(Op::Text {
                x,
                y,
                size,
                weight,
                colour,
                text: text.to_string(),
            });
        }
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, weight: Weight, colour: Rgb, t: &str) {
        let w = self.fonts.width(t, size, weight);
        self.text(right - w, y, size, weight, colour, t);
    }

    fn rule(&mut self, y: f32) {
        let (x0, x1) = (MARGIN, self.width - MARGIN);
        self.push(Op::Line {
            from: (x0, y),
            to: (x1, y),
            colour: style::RULE,
            width: 0.6,
        });
    }

    /// A small filled box with a finding's code: returns its width.
    fn chip(&mut self, x: f32, y_top: f32, kind: FindingKind, size: f32, label: &str) -> f32 {
        let fill = style::colour(kind);
        let w = self.fonts.width(label, size, Weight::Bold) + size * 0.8;
        let h = size * 1.45;
        self.push(Op::Rect {
            x,
            y: y_top,
            w,
            h,
            fill: Some(fill),
            stroke: Some((style::GREY_TEXT, 0.3)),
        });
        self.text(
            x + size * 0.4,
            y_top + h * 0.74,
            size,
            Weight::Bold,
            style::text_on(fill),
            label,
        );
        w
    }
}

/// The report's pages. `logo_size` and the radiograph's size decide their boxes.
pub fn lay_out(report: &Report, fonts: &Fonts, logo_size: Option<(u32, u32)>) -> Vec<Page> {
    let mut flow = Flow::new(fonts, report.paper.size_pt());
    header(&mut flow, report, logo_size);
    patient_block(&mut flow, report);
    if report.test_models {
        test_banner(&mut flow);
    }
    radiograph(&mut flow, report);
    legend(&mut flow, report);
    tooth_chart(&mut flow, report);
    findings_by_tooth(&mut flow, report);
    let count = flow.pages.len();
    let (width, height) = (flow.width, flow.height);
    let mut pages = std::mem::take(&mut flow.pages);
    for (i, page) in pages.iter_mut().enumerate() {
        let mut footer_flow = Flow::new(fonts, (width, height));
        footer(&mut footer_flow, report, i + 1, count);
        page.extend(footer_flow.pages.remove(0));
    }
    pages
}

fn header(flow: &mut Flow, report: &Report, logo_size: Option<(u32, u32)>) {
    let top = flow.y;
    let mut text_x = MARGIN;
    let mut logo_h = 0.0;
    if let Some((w, h)) = logo_size.filter(|(w, h)| *w > 0 && *h > 0) {
        let scale = (48.0 / h as f32).min(140.0 / w as f32);
        let (lw, lh) = (w as f32 * scale, h as f32 * scale);
        flow.push(Op::Logo {
            x: MARGIN,
            y: top,
            w: lw,
            h: lh,
        });
        text_x += lw + 10.0;
        logo_h = lh;
    }
    let right = flow.width - MARGIN;
    let title = "Panoramic radiograph report";
    flow.text_right(right, top + 14.0, 15.0, Weight::Bold, style::BLACK, title);
    let title_w = flow.fonts.width(title, 15.0, Weight::Bold);
    let clinic_width = (right - title_w - 16.0 - text_x).max(80.0);
    let name = flow
        .fonts
        .fit(&report.clinic.name, 12.5, Weight::Bold, clinic_width);
    flow.text(text_x, top + 13.0, 12.5, Weight::Bold, style::BLACK, &name);
    let mut y = top + 13.0;
    for line in &report.clinic.address {
        y += 11.0;
        let line = flow.fonts.fit(line, 8.5, Weight::Regular, clinic_width);
        flow.text(text_x, y, 8.5, Weight::Regular, style::GREY_TEXT, &line);
    }
    let issued = format!("Approved {}", report.approved_on);
    flow.text_right(
        right,
        top + 28.0,
        9.0,
        Weight::Regular,
        style::GREY_TEXT,
        &issued,
    );
    let bottom = (y + 6.0).max(top + logo_h + 4.0).max(top + 34.0);
    flow.rule(bottom);
    flow.y = bottom + 8.0;
}

fn patient_block(flow: &mut Flow, report: &Report) {
    let (name, birth, external) = match &report.patient {
        PatientBlock::Named {
            name,
            birth_date,
            external_id,
        } => (
            name.clone(),
            birth_date.clone().unwrap_or_else(|| "not recorded".into()),
            external_id.clone().unwrap_or_else(|| "not recorded".into()),
        ),
        PatientBlock::Withheld => (
            "withheld in this copy".to_string(),
            "withheld".to_string(),
            "withheld".to_string(),
        ),
    };
    let rows = [
        [
            ("Patient", name),
            ("Date of birth", birth),
            ("Patient number", external),
        ],
        [
            ("Approved by", report.clinician.clone()),
            ("Analysed on", report.analysed_on.clone()),
            ("AI models", report.model_version.clone()),
        ],
    ];
    // Names and model versions run long; dates do not.
    let shares = [0.38, 0.2, 0.42];
    let width = flow.content_width();
    for row in rows {
        let mut x = MARGIN;
        for (i, (label, value)) in row.iter().enumerate() {
            let column = width * shares[i];
            let y = flow.y;
            flow.text(x, y + 8.0, 7.5, Weight::Regular, style::GREY_TEXT, label);
            let value = flow.fonts.fit(value, 10.5, Weight::Bold, column - 8.0);
            x += column;
            flow.text(
                x - column,
                y + 21.0,
                10.5,
                Weight::Bold,
                style::BLACK,
                &value,
            );
        }
        flow.y += 28.0;
    }
    flow.y += 4.0;
}

fn test_banner(flow: &mut Flow) {
    let width = flow.content_width();
    let lines = flow
        .fonts
        .wrap(TEST_MODEL_NOTICE, 9.5, Weight::Bold, width - 16.0);
    let h = 10.0 + 12.0 * lines.len() as f32;
    flow.push(Op::Rect {
        x: MARGIN,
        y: flow.y,
        w: width,
        h,
        fill: Some(style::WARNING_FILL),
        stroke: Some((style::WARNING_TEXT, 0.8)),
    });
    for (i, line) in lines.iter().enumerate() {
        let y = flow.y + 15.0 + 12.0 * i as f32;
        flow.text(
            MARGIN + 8.0,
            y,
            9.5,
            Weight::Bold,
            style::WARNING_TEXT,
            line,
        );
    }
    flow.y += h + 8.0;
}

fn radiograph(flow: &mut Flow, report: &Report) {
    let image = &report.radiograph;
    let max_w = flow.content_width();
    // A portrait or square image would push everything else off the first page.
    let max_h = flow.height * 0.33;
    let scale = (max_w / image.width as f32).min(max_h / image.height as f32);
    let (w, h) = (image.width as f32 * scale, image.height as f32 * scale);
    let x = MARGIN + (max_w - w) / 2.0;
    let y = flow.y;
    flow.push(Op::Radiograph { x, y, w, h });
    for outline in &report.outlines {
        let rings = outline
            .rings
            .iter()
            .map(|ring| {
                ring.points()
                    .map(|(px, py)| (x + px as f32 * scale, y + py as f32 * scale))
                    .collect()
            })
            .collect();
        flow.push(Op::Outline {
            rings,
            colour: style::colour(outline.kind),
            width: if outline.confirmed { 1.6 } else { 0.9 },
        });
    }
    // Labels after every outline, so that none is drawn over by another outline.
    for outline in &report.outlines {
        let label = match outline.fdi {
            Some(fdi) => format!("{} {}", style::code(outline.kind), fdi.number()),
            None => style::code(outline.kind).to_string(),
        };
        let size = 6.0;
        let label_w = flow.fonts.width(&label, size, Weight::Bold) + size * 0.8;
        // Kept inside the picture where it fits; a picture narrower or lower than a label
        // (an extreme aspect ratio) gets the label at its corner rather than a panic.
        let lx = (x + outline.bbox[0] * scale).min(x + w - label_w).max(x);
        let ly = (y + outline.bbox[1] * scale - size * 1.5)
            .min(y + h - size * 1.45)
            .max(y);
        flow.chip(lx, ly, outline.kind, size, &label);
    }
    flow.push(Op::Rect {
        x,
        y,
        w,
        h,
        fill: None,
        stroke: Some((style::GREY_TEXT, 0.5)),
    });
    flow.y += h + 6.0;
}

fn legend(flow: &mut Flow, report: &Report) {
    let caption = if report.outlines.is_empty() {
        "No finding in the list below has an outline from the AI to show here."
    } else {
        "Outlines mark where the AI found the findings listed below, labelled with the \
         finding's code and the tooth (thicker where the dentist confirmed it). Findings the \
         dentist added have no outline."
    };
    let width = flow.content_width();
    for line in flow.fonts.wrap(caption, 7.5, Weight::Regular, width) {
        flow.text(
            MARGIN,
            flow.y + 8.0,
            7.5,
            Weight::Regular,
            style::GREY_TEXT,
            &line,
        );
        flow.y += 10.0;
    }
    let mut kinds: Vec<FindingKind> = report.findings.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    let mut x = MARGIN;
    let top = flow.y + 3.0;
    for kind in kinds {
        let label = style::title(kind);
        let needed = flow.fonts.width(&label, 8.0, Weight::Regular) + 30.0;
        if x + needed > MARGIN + width {
            x = MARGIN;
            flow.y += 14.0;
        }
        let chip_w = flow.chip(x, flow.y + 3.0, kind, 7.0, style::code(kind));
        let y = flow.y + 11.0;
        flow.text(
            x + chip_w + 3.0,
            y,
            8.0,
            Weight::Regular,
            style::BLACK,
            &label,
        );
        x += needed;
    }
    if flow.y + 3.0 > top || x > MARGIN {
        flow.y += 18.0;
    }
}

const UPPER: [u32; 16] = [
    18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28,
];
const LOWER: [u32; 16] = [
    48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38,
];

fn tooth_chart(flow: &mut Flow, report: &Report) {
    let cell_h = 32.0;
    flow.ensure(24.0 + 2.0 * cell_h + 8.0);
    let heading = "Tooth chart";
    flow.text(
        MARGIN,
        flow.y + 11.0,
        11.0,
        Weight::Bold,
        style::BLACK,
        heading,
    );
    let note = "FDI tooth numbers, as on the radiograph: the patient's right side is on the left.";
    let note_x = MARGIN + flow.fonts.width(heading, 11.0, Weight::Bold) + 10.0;
    flow.text(
        note_x,
        flow.y + 11.0,
        7.5,
        Weight::Regular,
        style::GREY_TEXT,
        note,
    );
    flow.y += 18.0;
    let cell_w = flow.content_width() / 16.0;
    for (row, teeth) in [UPPER, LOWER].iter().enumerate() {
        let top = flow.y;
        for (i, number) in teeth.iter().enumerate() {
            let fdi = Fdi::new(*number).expect("chart numbers are FDI");
            let x = MARGIN + cell_w * i as f32;
            let found: Vec<&ReportedFinding> =
                report.findings.iter().filter(|f| f.fdi == fdi).collect();
            let missing = found.iter().any(|f| f.kind == FindingKind::Missing);
            flow.push(Op::Rect {
                x,
                y: top,
                w: cell_w,
                h: cell_h,
                fill: missing.then_some(style::MISSING_CELL),
                stroke: Some((style::RULE, 0.6)),
            });
            // Upper teeth: number on top (crowns meet at the middle); lower: at the bottom.
            let number_y = if row == 0 {
                top + 9.0
            } else {
                top + cell_h - 3.0
            };
            let chip_size = 6.5;
            let label = number.to_string();
            let label_w = flow.fonts.width(&label, 7.5, Weight::Bold);
            flow.text(
                x + (cell_w - label_w) / 2.0,
                number_y,
                7.5,
                Weight::Bold,
                style::BLACK,
                &label,
            );
            let mut cx = x + 2.0;
            let mut cy = if row == 0 { top + 12.0 } else { top + 2.0 };
            for f in found {
                let code = style::code(f.kind);
                let w = flow.fonts.width(code, chip_size, Weight::Bold) + chip_size * 0.8;
                if cx + w > x + cell_w - 1.0 {
                    cx = x + 2.0;
                    cy += chip_size * 1.45 + 1.0;
                }
                flow.chip(cx, cy, f.kind, chip_size, code);
                cx += w + 1.5;
            }
        }
        flow.y = top + cell_h + 2.0;
    }
    flow.y += 10.0;
}

fn findings_by_tooth(flow: &mut Flow, report: &Report) {
    flow.ensure(40.0);
    let heading = "Findings by tooth";
    flow.text(
        MARGIN,
        flow.y + 11.0,
        11.0,
        Weight::Bold,
        style::BLACK,
        heading,
    );
    let note = "Percentages are the AI's confidence. Findings the dentist rejected are left out.";
    let note_x = MARGIN + flow.fonts.width(heading, 11.0, Weight::Bold) + 10.0;
    flow.text(
        note_x,
        flow.y + 11.0,
        7.5,
        Weight::Regular,
        style::GREY_TEXT,
        note,
    );
    flow.y += 18.0;
    missing_teeth(flow, report);
    let name_w = 110.0;
    let text_x = MARGIN + name_w + 8.0;
    let text_w = flow.content_width() - name_w - 8.0;
    let mut without = Vec::new();
    for quadrant in 1..=4u32 {
        for tooth in 1..=8u32 {
            let fdi = Fdi::new(quadrant * 10 + tooth).expect("FDI");
            let all: Vec<&ReportedFinding> =
                report.findings.iter().filter(|f| f.fdi == fdi).collect();
            if all.is_empty() {
                without.push(fdi.number().to_string());
                continue;
            }
            // Missing teeth are listed together above.
            let found: Vec<&ReportedFinding> = all
                .into_iter()
                .filter(|f| f.kind != FindingKind::Missing)
                .collect();
            if found.is_empty() {
                continue;
            }
            let lines: Vec<(FindingKind, Vec<String>)> = found
                .iter()
                .map(|f| {
                    let text = format!("{}: {}", style::title(f.kind), f.origin.words());
                    (
                        f.kind,
                        flow.fonts.wrap(&text, 9.0, Weight::Regular, text_w - 22.0),
                    )
                })
                .collect();
            let rows: usize = lines.iter().map(|(_, l)| l.len()).sum();
            let h = (rows as f32 * 11.5).max(24.0) + 5.0;
            flow.ensure(h);
            let top = flow.y;
            flow.text(
                MARGIN,
                top + 10.0,
                10.0,
                Weight::Bold,
                style::BLACK,
                &format!("Tooth {}", fdi.number()),
            );
            flow.text(
                MARGIN,
                top + 20.0,
                7.5,
                Weight::Regular,
                style::GREY_TEXT,
                &tooth_name(fdi),
            );
            let mut y = top;
            for (kind, wrapped) in lines {
                flow.chip(text_x, y + 2.0, kind, 6.0, style::code(kind));
                for line in wrapped {
                    flow.text(
                        text_x + 22.0,
                        y + 9.5,
                        9.0,
                        Weight::Regular,
                        style::BLACK,
                        &line,
                    );
                    y += 11.5;
                }
            }
            flow.y = top + h;
            flow.rule(flow.y - 2.0);
        }
    }
    if !without.is_empty() {
        let teeth = if without.len() == 1 { "tooth" } else { "teeth" };
        let text = format!("No finding on {teeth} {}.", without.join(", "));
        let width = flow.content_width();
        flow.y += 4.0;
        for line in flow.fonts.wrap(&text, 9.0, Weight::Regular, width) {
            flow.ensure(12.0);
            flow.text(
                MARGIN,
                flow.y + 9.0,
                9.0,
                Weight::Regular,
                style::BLACK,
                &line,
            );
            flow.y += 12.0;
        }
    }
}

/// One paragraph for the missing teeth (often many, and one word each): "12 (83%),
/// 13 (confirmed), 14 (added)". Colour and code as in the chart.
fn missing_teeth(flow: &mut Flow, report: &Report) {
    let items: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Missing)
        .map(|f| {
            let how = match f.origin {
                Origin::Ai { score } => format!("{}%", percent(score)),
                Origin::Confirmed { .. } => "confirmed".to_string(),
                Origin::Added => "added".to_string(),
            };
            // A no-break space keeps a tooth and its note on one line.
            format!("{}\u{a0}({how})", f.fdi.number())
        })
        .collect();
    if items.is_empty() {
        return;
    }
    let text = format!("Missing teeth: {}.", items.join(", "));
    let width = flow.content_width() - 22.0;
    let lines = flow.fonts.wrap(&text, 9.0, Weight::Regular, width);
    flow.ensure(12.0 * lines.len().min(3) as f32);
    flow.chip(
        MARGIN,
        flow.y + 2.0,
        FindingKind::Missing,
        6.0,
        style::code(FindingKind::Missing),
    );
    for line in lines {
        flow.ensure(12.0);
        flow.text(
            MARGIN + 22.0,
            flow.y + 9.5,
            9.0,
            Weight::Regular,
            style::BLACK,
            &line,
        );
        flow.y += 12.0;
    }
    flow.y += 3.0;
    flow.rule(flow.y - 2.0);
}

fn footer(flow: &mut Flow, report: &Report, page: usize, count: usize) {
    let top = flow.height - MARGIN - FOOTER_HEIGHT + 6.0;
    flow.rule(top);
    let right = flow.width - MARGIN;
    let page_label = format!("Page {page} of {count}");
    flow.text_right(
        right,
        top + 11.0,
        7.5,
        Weight::Regular,
        style::GREY_TEXT,
        &page_label,
    );
    flow.text(
        MARGIN,
        top + 11.0,
        7.5,
        Weight::Regular,
        style::GREY_TEXT,
        DECISION_SUPPORT_NOTICE,
    );
    if report.test_models {
        let width = flow.content_width();
        let notice = flow.fonts.fit(TEST_MODEL_NOTICE, 7.5, Weight::Bold, width);
        flow.text(
            MARGIN,
            top + 22.0,
            7.5,
            Weight::Bold,
            style::WARNING_TEXT,
            &notice,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Clinic, Paper, Radiograph, ReportedOutline};
    use pano_core::Ring;

    fn report(findings: Vec<ReportedFinding>, test_models: bool, paper: Paper) -> Report {
        Report {
            paper,
            clinic: Clinic {
                name: "Harbour Dental".into(),
                address: vec!["1 Quay Street".into(), "Bristol BS1 4XE".into()],
                logo: None,
            },
            patient: PatientBlock::Named {
                name: "Ada Lovelace".into(),
                birth_date: Some("1815-12-10".into()),
                external_id: Some("PMS-42".into()),
            },
            clinician: "Dr Grey".into(),
            approved_on: "2026-12-02".into(),
            analysed_on: "2026-12-01".into(),
            model_version: "test-1".into(),
            test_models,
            radiograph: Radiograph {
                bytes: Vec::new(),
                width: 2000,
                height: 1000,
            },
            findings,
            outlines: vec![ReportedOutline {
                kind: FindingKind::Caries,
                fdi: Some(Fdi::new(36).unwrap()),
                rings: vec![Ring::from_points([(100, 100), (200, 100), (200, 200)])],
                bbox: [100.0, 100.0, 200.0, 200.0],
                confirmed: false,
            }],
        }
    }

    fn texts(page: &Page) -> Vec<String> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn every_finding(n: usize) -> Vec<ReportedFinding> {
        (1..=4u32)
            .flat_map(|q| (1..=8u32).map(move |t| q * 10 + t))
            .flat_map(|fdi| {
                FindingKind::ALL
                    .into_iter()
                    .take(n)
                    .map(move |kind| ReportedFinding {
                        fdi: Fdi::new(fdi).unwrap(),
                        kind,
                        origin: Origin::Ai { score: 0.8 },
                    })
            })
            .collect()
    }

    #[test]
    fn long_reports_flow_onto_numbered_pages_within_the_margins() {
        let fonts = Fonts::load().unwrap();
        for paper in [Paper::A4, Paper::Letter] {
            let pages = lay_out(&report(every_finding(8), true, paper), &fonts, None);
            let (w, h) = paper.size_pt();
            assert!(pages.len() >= 3, "{} pages", pages.len());
            for (i, page) in pages.iter().enumerate() {
                let t = texts(page);
                assert!(t.contains(&format!("Page {} of {}", i + 1, pages.len())));
                assert!(t.iter().any(|s| s == DECISION_SUPPORT_NOTICE));
                assert!(t.iter().any(|s| s.starts_with("Made by test models")));
                for op in page {
                    if let Op::Text {
                        x,
                        y,
                        text,
                        size,
                        weight,
                        ..
                    } = op
                    {
                        let right = x + fonts.width(text, *size, *weight);
                        assert!(*x >= MARGIN - 0.01 && right <= w - MARGIN + 0.5, "{text}");
                        assert!(*y > 0.0 && *y <= h - MARGIN, "{text} at {y}");
                    }
                }
            }
            // Every tooth's row is there once, and every finding line.
            let all: Vec<String> = pages.iter().flat_map(texts).collect();
            for n in [11, 18, 28, 38, 48] {
                let count = all.iter().filter(|s| **s == format!("Tooth {n}")).count();
                assert_eq!(count, 1, "tooth {n}");
            }
            let lines = all
                .iter()
                .filter(|s| s.contains("found by the AI (80%)"))
                .count();
            assert_eq!(lines, 32 * 7, "missing teeth are listed together");
            let missing: String = all
                .iter()
                .skip_while(|s| !s.starts_with("Missing teeth: 11\u{a0}(80%), 12\u{a0}(80%)"))
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(missing.contains("48\u{a0}(80%)."), "{missing}");
        }
    }

    #[test]
    fn extreme_pictures_lay_out_without_panicking() {
        let fonts = Fonts::load().unwrap();
        for (w, h) in [(256, 16000), (16000, 256), (512, 256)] {
            let mut r = report(every_finding(2), false, Paper::A4);
            r.radiograph.width = w;
            r.radiograph.height = h;
            let pages = lay_out(&r, &fonts, None);
            assert!(!pages.is_empty());
        }
    }

    #[test]
    fn a_short_report_is_one_page_and_lists_the_teeth_without_findings() {
        let fonts = Fonts::load().unwrap();
        let findings = vec![ReportedFinding {
            fdi: Fdi::new(36).unwrap(),
            kind: FindingKind::Caries,
            origin: Origin::Confirmed { score: 0.91 },
        }];
        let pages = lay_out(
            &report(findings, false, Paper::A4),
            &fonts,
            Some((400, 100)),
        );
        assert_eq!(pages.len(), 1);
        let t = texts(&pages[0]);
        assert!(
            t.contains(&"Caries: confirmed by the dentist (AI 91%)".to_string()),
            "{t:?}"
        );
        assert!(t.contains(&"C 36".to_string()), "outline label");
        assert!(t
            .iter()
            .any(|s| s.starts_with("No finding on teeth 11, 12,")));
        assert!(!t.iter().any(|s| s.contains("test models")));
        assert!(pages[0].iter().any(|op| matches!(op, Op::Logo { .. })));
        assert!(t.contains(&"Ada Lovelace".to_string()));
    }
}
