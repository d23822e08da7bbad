//! Visits: care visits to residents with care tags at their cycle, key
//! person visits, home visits and incident follow-ups; and the next visit
//! due each tagged resident and the last visit each household then has.

use std::collections::HashMap;

use uuid::Uuid;

use super::clock::{self, DAY_MS, HOUR_MS, MINUTE_MS};
use super::households::Homes;
use super::random::Gen;
use super::{GridCtx, review_log};
use gridwork_core::model::{
    CareTagKind, Incident, Meta, PhotoRole, Resident, Visit, VisitForm, VisitKind, VisitTarget,
    VisitTargetKind,
};
use gridwork_core::workflow::{self, Status};

const ELDERLY: &[&str] = &[
    "入户看望{who}，老人精神状态良好，家中水电燃气使用正常，冰箱内食物充足，提醒其按时服药。",
    "电话联系{who}，老人自述近日血压稳定，子女周末回来探望过，暂无其他需求。",
    "上门看望{who}，老人反映膝关节疼痛、上下楼不便，已登记居家养老服务需求。",
    "看望{who}，检查燃气报警器工作正常，提醒其夜间起床注意防跌倒。",
];
const LEFT_BEHIND: &[&str] = &[
    "走访留守儿童{name}家庭，与其祖父母了解孩子近期学习和生活情况，孩子在校表现良好，父母每周视频联系。",
    "了解{name}假期安排，提醒监护人注意防溺水、防触电安全。",
];
const DISABILITY: &[&str] = &[
    "走访残疾人{who}，了解康复训练及辅具使用情况，本人情绪稳定。",
    "看望{who}，核实残疾人两项补贴发放情况，家属表示已按时到账。",
];
const LOW_INCOME: &[&str] = &[
    "走访低保户{who}，核实家庭收入及就业情况，生活基本有保障。",
    "看望{who}，了解家中子女就学情况，告知教育救助申请渠道。",
];
const KEY_PERSON: &[&str] = &[
    "对{name}开展例行走访，本人在家，情绪稳定，近期无异常。",
    "与{name}及其家属谈话，了解近期工作生活情况，未发现异常。",
];
const HOME: &[&str] = &[
    "入户走访{address}，核对家庭成员信息，宣传反诈骗、消防安全知识。",
    "走访{address}出租屋，核实租住人员信息，提醒租户及时办理居住登记。",
    "入户走访{address}，了解住户对社区服务的意见建议，住户反映小区停车难。",
];
const FOLLOW_UP: &[&str] = &[
    "回访事件“{title}”相关当事人，了解处置结果，群众表示满意。",
    "电话回访“{title}”反映人，对方表示问题已解决。",
];
const CARE_MEASURES: &[&str] = &[
    "协助申请长者饭堂助餐服务",
    "联系家庭医生上门随访",
    "为老人安装燃气报警器",
    "链接社工开展课后托管",
    "协助办理残疾人两项补贴年审",
    "告知临时救助申请渠道",
    "",
];
const KEY_MEASURES: &[&str] = &["提醒按规定报到", "与家属沟通，做好日常关注", "落实帮教措施"];
const HOME_MEASURES: &[&str] = &["发放消防安全宣传资料", "提醒租户及时办理居住登记", ""];

/// Generates a grid's visits, oldest first, and sets each tagged
/// resident's next visit due and each household's last visit.
pub(super) fn generate(
    g: &mut Gen,
    ctx: &GridCtx,
    homes: &mut Homes,
    incidents: &[Incident],
) -> Vec<Visit> {
    let now = ctx.cfg.now_ms;
    let household_at: HashMap<Uuid, usize> = homes
        .households
        .iter()
        .enumerate()
        .map(|(i, h)| (h.meta.id, i))
        .collect();
    let cared: Vec<usize> = homes
        .residents
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.care_tags.is_empty())
        .map(|(i, _)| i)
        .collect();
    let resolved: Vec<(&Incident, i64)> = incidents
        .iter()
        .filter_map(|inc| {
            let d = workflow::derive(inc, ctx.cal);
            let done = matches!(
                d.status,
                Status::Resolved | Status::Verified | Status::FeedbackGiven | Status::Closed
            );
            d.resolved_at
                .filter(|&at| done && at + HOUR_MS < now)
                .map(|at| (inc, at))
        })
        .collect();

    let mut visits: Vec<Visit> = Vec::with_capacity(ctx.cfg.visits_per_grid as usize);
    for _ in 0..ctx.cfg.visits_per_grid {
        let roll: f64 = g.range(0.0..1.0);
        let visit = if !cared.is_empty() && roll < 0.55 {
            let r = g.pick(&cared);
            care_visit(g, ctx, &homes.residents[r])
        } else if !resolved.is_empty() && roll < 0.7 {
            let (inc, at) = g.pick(&resolved);
            follow_up(g, ctx, inc, at)
        } else if !homes.households.is_empty() {
            let h = g.pick_ref(&homes.households);
            let content = g.pick(HOME).replace("{address}", &h.address.one_line());
            Draft {
                target: VisitTarget {
                    kind: VisitTargetKind::Household,
                    id: h.meta.id,
                },
                kind: VisitKind::Home,
                form: VisitForm::InPerson,
                visited_at: past_working_time(g, ctx),
                content,
                measures: g.pick(HOME_MEASURES).to_string(),
                cycle: g.chance(0.5).then_some(90),
            }
        } else {
            continue;
        };
        let point = match visit.form {
            VisitForm::InPerson => {
                let household = match visit.target.kind {
                    VisitTargetKind::Household => household_at.get(&visit.target.id).copied(),
                    VisitTargetKind::Resident => homes
                        .residents
                        .iter()
                        .find(|r| r.meta.id == visit.target.id)
                        .and_then(|r| r.household_id)
                        .and_then(|h| household_at.get(&h).copied()),
                    VisitTargetKind::Incident => None,
                };
                match household {
                    Some(h) => homes.households[h].point.clone(),
                    None => incidents
                        .iter()
                        .find(|i| i.meta.id == visit.target.id)
                        .and_then(|i| i.point.clone()),
                }
            }
            VisitForm::Phone | VisitForm::Video => None,
        };
        let created_at = (visit.visited_at + g.range(5 * MINUTE_MS..60 * MINUTE_MS)).min(now);
        let photos = if visit.form == VisitForm::InPerson && g.chance(0.6) {
            vec![g.photo(PhotoRole::Evidence, visit.visited_at + 10 * MINUTE_MS)]
        } else {
            Vec::new()
        };
        let next_due = visit.cycle.map(|days| {
            clock::days_after(clock::shanghai_date(visit.visited_at), days).to_string()
        });
        visits.push(Visit {
            meta: Meta {
                id: g.uuid_v7(created_at),
                grid: ctx.area.code.clone(),
                created_by: ctx.worker.id.clone(),
                created_at,
                deleted: false,
            },
            target: visit.target,
            kind: visit.kind,
            form: visit.form,
            visitor: ctx.worker.id.clone(),
            visited_at: visit.visited_at,
            point,
            photos,
            content: visit.content,
            measures: visit.measures,
            next_due,
            review: review_log(g, ctx, created_at),
        });
    }
    visits.sort_by_key(|v| v.visited_at);

    // The latest visit per resident and household decides what is due.
    let mut last_resident: HashMap<Uuid, i64> = HashMap::new();
    let mut last_household: HashMap<Uuid, i64> = HashMap::new();
    for v in &visits {
        match v.target.kind {
            VisitTargetKind::Resident => {
                last_resident.insert(v.target.id, v.visited_at);
            }
            VisitTargetKind::Household => {
                last_household.insert(v.target.id, v.visited_at);
            }
            VisitTargetKind::Incident => {}
        }
    }
    for &r in &cared {
        let resident = &mut homes.residents[r];
        let cycle = min_cycle(resident);
        let last = last_resident
            .get(&resident.meta.id)
            .copied()
            .unwrap_or_else(|| {
                // Visited before the demo's window; some are now overdue.
                let back = g.range(0..=i64::from(cycle) * 13 / 10 + 1);
                now - back * DAY_MS
            });
        resident.next_visit_due =
            Some(clock::days_after(clock::shanghai_date(last), i64::from(cycle)).to_string());
        if let Some(h) = resident.household_id.and_then(|h| household_at.get(&h)) {
            let at = last_household
                .entry(homes.households[*h].meta.id)
                .or_insert(last);
            *at = (*at).max(last);
        }
    }
    for h in &mut homes.households {
        h.last_visit_at = last_household.get(&h.meta.id).copied();
    }
    visits
}

/// A visit before it becomes a record.
struct Draft {
    target: VisitTarget,
    kind: VisitKind,
    form: VisitForm,
    visited_at: i64,
    content: String,
    measures: String,
    cycle: Option<i64>,
}

fn min_cycle(r: &Resident) -> u32 {
    r.care_tags
        .iter()
        .map(|t| t.visit_cycle_days)
        .min()
        .unwrap_or(30)
}

/// A working-hours time in the last 90 days, before now.
fn past_working_time(g: &mut Gen, ctx: &GridCtx) -> i64 {
    let day = clock::days_before(ctx.today, g.range(1..=90));
    clock::at(day, g.range(9..=17), g.range(0..60))
}

/// How people address someone: 陈伯, 黄姨 for elders, the name otherwise.
fn address_as(r: &Resident, today: jiff::civil::Date) -> String {
    let elder = r
        .birth_date
        .as_deref()
        .and_then(|d| d.parse().ok())
        .is_some_and(|b| clock::age_on(b, today) >= 60);
    let han = r.name.chars().all(|c| c as u32 >= 0x3400);
    if !(elder && han) {
        return r.name.clone();
    }
    let surname: String = match ["欧阳", "司徒", "上官", "诸葛"]
        .iter()
        .find(|s| r.name.starts_with(*s))
    {
        Some(s) => s.to_string(),
        None => r.name.chars().take(1).collect(),
    };
    let suffix = if r.gender == gridwork_core::model::Gender::Male {
        "伯"
    } else {
        "姨"
    };
    format!("{surname}{suffix}")
}

fn care_visit(g: &mut Gen, ctx: &GridCtx, r: &Resident) -> Draft {
    let key_person = r.care_tags.iter().any(|t| t.tag.is_restricted());
    let tag = r.care_tags[g.range(0..r.care_tags.len())].tag;
    let template = match tag {
        CareTagKind::ElderlyLivingAlone => g.pick(ELDERLY),
        CareTagKind::LeftBehindChild => g.pick(LEFT_BEHIND),
        CareTagKind::Disability => g.pick(DISABILITY),
        CareTagKind::LowIncome => g.pick(LOW_INCOME),
        _ => g.pick(KEY_PERSON),
    };
    let phone_call = template.starts_with("电话");
    let form = if phone_call {
        VisitForm::Phone
    } else if key_person {
        VisitForm::InPerson
    } else {
        g.weighted(&[(VisitForm::InPerson, 80), (VisitForm::Video, 5)])
    };
    let content = template
        .replace("{who}", &address_as(r, ctx.today))
        .replace("{name}", &r.name);
    let measures = if tag.is_restricted() {
        g.pick(KEY_MEASURES)
    } else {
        g.pick(CARE_MEASURES)
    };
    Draft {
        target: VisitTarget {
            kind: VisitTargetKind::Resident,
            id: r.meta.id,
        },
        kind: if key_person {
            VisitKind::KeyPerson
        } else {
            VisitKind::Care
        },
        form,
        visited_at: past_working_time(g, ctx),
        content,
        measures: measures.to_string(),
        cycle: Some(i64::from(tag.default_cycle_days().min(min_cycle(r)))),
    }
}

fn follow_up(g: &mut Gen, ctx: &GridCtx, inc: &Incident, resolved_at: i64) -> Draft {
    let latest = ctx.cfg.now_ms - HOUR_MS;
    let visited_at = (resolved_at + g.range(HOUR_MS..3 * DAY_MS)).min(latest);
    let template = g.pick(FOLLOW_UP);
    Draft {
        target: VisitTarget {
            kind: VisitTargetKind::Incident,
            id: inc.meta.id,
        },
        kind: VisitKind::IncidentFollowUp,
        form: if template.starts_with("电话") {
            VisitForm::Phone
        } else {
            VisitForm::InPerson
        },
        visited_at,
        content: template.replace("{title}", &inc.title),
        measures: String::new(),
        cycle: None,
    }
}
