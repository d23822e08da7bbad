//! Incidents and their closed loop: what grid workers find and residents
//! report, in every category, taken through every status of the workflow
//! (returns, dispatches with deadlines, on-the-spot resolutions, reopened
//! feedback, suspensions, escalations to the street and the district) by
//! appending each step with [`workflow::transition`], so every log entry
//! passes the rules.

use std::collections::HashMap;

use super::GridCtx;
use super::clock::{self, DAY_MS, MINUTE_MS};
use super::people::{self, LOCAL, MIGRANT};
use super::random::Gen;
use gridwork_core::model::{
    Category, CategoryMajor, GeoPoint, Household, Incident, IncidentParties, IncidentSource,
    Mediation, MediationMethod, Meta, Party, Patrol, PhotoRole, Role, Urgency,
};
use gridwork_core::workflow::{self, Action, Actor, Assignee, AssigneeKind, Level, Satisfaction};

/// Who handles an incident once it is dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The street's law-enforcement team (城管).
    Chengguan,
    /// The district's environment bureau (环保).
    Huanbao,
    /// The grid worker, with the community's help.
    Worker,
}

/// Where an incident's text fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fits {
    Any,
    Urban,
    Village,
}

/// An incident as people write it. `{site}` is a full location (阳光花园
/// 3栋2单元, 车陂东约三组12号), `{bu}` its building part (3栋2单元),
/// `{estate}` the estate or village, `{road}` and `{no}` a street address.
struct Template {
    major: CategoryMajor,
    minor: &'static str,
    title: &'static str,
    description: &'static str,
    route: Route,
    fits: Fits,
    weight: u32,
}

const fn t(
    major: CategoryMajor,
    minor: &'static str,
    title: &'static str,
    description: &'static str,
    route: Route,
    fits: Fits,
    weight: u32,
) -> Template {
    Template {
        major,
        minor,
        title,
        description,
        route,
        fits,
        weight,
    }
}

use CategoryMajor as C;
use Fits::{Any, Urban, Village};
use Route::{Chengguan, Huanbao, Worker};

#[rustfmt::skip]
const TEMPLATES: &[Template] = &[
    t(C::Dispute, "邻里纠纷", "邻里纠纷：{bu}楼上漏水引发赔偿争议",
        "{site}住户反映楼上卫生间漏水，导致自家天花板发霉、墙皮脱落，双方就维修责任和赔偿费用协商未果，情绪较为激动，请求社区调解。",
        Worker, Any, 4),
    t(C::Dispute, "邻里纠纷", "噪音扰民引发邻里纠纷",
        "{site}住户反映楼上住户经常在夜间拖动家具、小孩跑跳，多次上门沟通无果，双方昨晚在楼道发生口角。",
        Worker, Any, 3),
    t(C::Dispute, "邻里纠纷", "{bu}公共走廊占用纠纷",
        "{site}两户住户因一方在公共走廊摆放鞋柜和花盆发生争执，另一方认为影响通行和消防疏散。",
        Worker, Any, 2),
    t(C::Dispute, "物业纠纷", "{estate}业主与物业就停车费上涨发生争执",
        "{estate}物业公司张贴通知将月租车位费由300元上调至450元，部分业主认为未经业主大会表决，聚集在物业服务中心要求说明，现场情绪较激动。",
        Worker, Urban, 2),
    t(C::Dispute, "租赁纠纷", "租客与房东押金退还纠纷",
        "{site}租户反映退租时房东以墙面损坏为由拒绝退还押金3000元，双方各执一词，租客到社区求助。",
        Worker, Any, 3),
    t(C::Dispute, "劳资纠纷", "{road}某餐馆拖欠员工工资",
        "{road}{no}号一餐馆员工反映老板拖欠两个月工资共计约1.6万元，老板称经营困难，双方多次协商未果。",
        Worker, Any, 2),
    t(C::Dispute, "家庭纠纷", "家庭赡养纠纷",
        "{site}一位老人反映子女之间因赡养费分摊问题长期争执，近期无人照料，请求社区协调。",
        Worker, Any, 1),
    t(C::SafetyHazard, "楼道堆物", "楼道堆放杂物",
        "{site}楼道堆放纸箱、旧家具等杂物，堵塞疏散通道，存在消防安全隐患。",
        Worker, Any, 6),
    t(C::SafetyHazard, "电动车违规充电", "电动自行车楼道飞线充电",
        "{site}一楼有住户从窗口拉电线为电动自行车充电，夜间无人看管，存在火灾隐患。",
        Chengguan, Any, 4),
    t(C::SafetyHazard, "房屋漏水", "{bu}楼顶漏水",
        "{site}顶层住户反映近期连续降雨后楼顶漏水，客厅天花板渗水面积较大，靠近电线，存在用电安全隐患。",
        Worker, Any, 4),
    t(C::SafetyHazard, "设施损坏", "{road}人行道井盖破损",
        "{road}{no}号门前人行道井盖破损下陷，行人夜间经过容易踩空摔伤。",
        Chengguan, Any, 2),
    t(C::SafetyHazard, "高空坠物", "{bu}外墙瓷砖脱落",
        "{site}外墙有多块瓷砖松动脱落，楼下为人行通道，存在高空坠物隐患，已临时拉设警戒线。",
        Chengguan, Any, 2),
    t(C::Fire, "消防通道", "消防通道被车辆占用",
        "{site}旁消防通道长期停放私家车，消防车无法正常通行。",
        Chengguan, Any, 3),
    t(C::Fire, "消防设施", "灭火器过期未更换",
        "{site}各楼层灭火器压力表指针处于红区，标签显示已过有效期。",
        Worker, Any, 2),
    t(C::Fire, "消防设施", "消火栓箱内水带缺失",
        "{site}消火栓箱内水带、水枪缺失，箱门无法关闭。",
        Worker, Any, 2),
    t(C::WorkSafety, "施工安全", "{road}工地未设置安全围挡",
        "{road}{no}号附近施工工地临街一侧未设置围挡，沙土堆放在人行道上，施工人员未佩戴安全帽。",
        Chengguan, Any, 2),
    t(C::WorkSafety, "危险化学品", "小餐馆违规存放液化气瓶",
        "{road}{no}号一楼小餐馆后厨存放液化石油气瓶5瓶，未设置独立气瓶间，且靠近明火灶台。",
        Chengguan, Any, 2),
    t(C::CityManagement, "占道经营", "{road}流动摊贩占道经营",
        "{road}{no}号附近傍晚有多个流动摊贩占用人行道摆卖水果、烧烤，影响行人通行，收摊后遗留垃圾。",
        Chengguan, Any, 4),
    t(C::CityManagement, "乱张贴", "楼道乱张贴小广告",
        "{site}楼道墙面、电梯间张贴大量开锁、疏通下水道小广告。",
        Worker, Any, 3),
    t(C::CityManagement, "违法建设", "{bu}天台违章搭建",
        "{site}有住户在天台用铁皮搭建约20平方米的棚屋，疑似用于出租。",
        Chengguan, Any, 2),
    t(C::CityManagement, "垃圾清运", "垃圾桶满溢未及时清运",
        "{site}垃圾分类投放点垃圾桶满溢，周边散发异味，已两天未清运。",
        Chengguan, Any, 3),
    t(C::CityManagement, "市政设施", "{road}路灯不亮",
        "{road}{no}号至路口一段约5盏路灯不亮，夜间行人反映存在安全隐患。",
        Chengguan, Any, 2),
    t(C::CityManagement, "共享单车", "共享单车乱停放堵塞人行道",
        "{road}地铁站出口共享单车大量堆积，占满人行道，盲道被阻断。",
        Chengguan, Any, 2),
    t(C::Environment, "噪音扰民", "噪音扰民",
        "{road}{no}号附近工地夜间22时后仍在施工，机械噪音较大，周边居民反映无法入睡。",
        Huanbao, Any, 4),
    t(C::Environment, "油烟扰民", "餐饮油烟扰民",
        "{road}{no}号餐馆油烟直排，未安装油烟净化设施，楼上住户反映油烟味严重，窗户无法打开。",
        Huanbao, Any, 3),
    t(C::Environment, "水污染", "生活污水直排雨水管",
        "{road}{no}号附近雨水井有黑臭污水流出，疑似周边商铺将污水接入雨水管网。",
        Huanbao, Any, 2),
    t(C::Environment, "大气污染", "露天焚烧垃圾",
        "{site}附近空地有人焚烧枯枝和生活垃圾，浓烟较大，周边居民反映呛鼻。",
        Huanbao, Any, 1),
    t(C::PublicOrder, "可疑人员", "{estate}有可疑人员挨家推销",
        "{site}住户反映近日有陌生人员以推销保健品为名挨家敲门，询问老人是否独居。",
        Worker, Any, 2),
    t(C::PublicOrder, "盗窃", "电动车电瓶被盗",
        "{site}住户反映停放在楼下的电动自行车电瓶夜间被盗，已建议其向派出所报警。",
        Worker, Any, 2),
    t(C::LivelihoodServices, "供水", "停水未提前通知",
        "{site}住户反映今早突然停水，未见提前通知，家中有老人小孩，生活不便。",
        Worker, Any, 2),
    t(C::LivelihoodServices, "电梯", "{bu}电梯故障停运",
        "{site}电梯故障停运已三天，楼内多位老人行动不便无法下楼，住户要求尽快维修。",
        Worker, Urban, 3),
    t(C::LivelihoodServices, "为老服务", "独居老人求助更换灯泡",
        "{site}独居老人来电求助，家中卫生间灯泡损坏，本人无法登高更换。",
        Worker, Any, 2),
    t(C::Petition, "加装电梯", "业主反映加装电梯意见分歧",
        "{site}部分业主申请加装电梯，低层业主担心采光和噪音问题不同意，双方多次到社区反映。",
        Worker, Urban, 1),
    t(C::Petition, "旧村改造", "村民反映旧村改造补偿问题",
        "{site}村民反映旧村改造补偿方案中宅基地面积认定与实际不符，要求重新测量。",
        Worker, Village, 1),
    t(C::MarketSupervision, "无证经营", "{road}无证经营餐饮店",
        "{road}{no}号一间小吃店未悬挂营业执照和食品经营许可证，后厨卫生条件较差。",
        Worker, Any, 2),
    t(C::MarketSupervision, "食品安全", "小卖部销售过期食品",
        "{site}附近小卖部货架上有多款饮料、零食已超过保质期仍在销售。",
        Worker, Any, 1),
    t(C::Other, "动物管理", "流浪犬伤人隐患",
        "{site}附近有数只流浪犬聚集，近日有小孩被追咬，居民反映强烈。",
        Worker, Any, 1),
    t(C::Other, "园林绿化", "树木倒伏压住围墙",
        "{road}{no}号附近一棵大叶榕被风吹倒，压在围墙上，部分枝干伸入人行道。",
        Chengguan, Any, 1),
];

/// The path an incident takes, named by where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Draft,
    Reported,
    Returned,
    Accepted,
    Dispatched,
    InProgress,
    Resolved,
    Verified,
    FeedbackGiven,
    Closed,
    OnSpotResolved,
    OnSpotClosed,
    Suspended,
    ResumedClosed,
    ResubmittedClosed,
    Reopened,
    EscalatedToStreet,
    EscalatedToDistrict,
}

/// How often each path occurs. The first incidents of a demo take each
/// path once, so even a small demo shows every status.
const SCENARIOS: &[(Scenario, u32)] = &[
    (Scenario::Draft, 4),
    (Scenario::Reported, 6),
    (Scenario::Returned, 4),
    (Scenario::Accepted, 5),
    (Scenario::Dispatched, 6),
    (Scenario::InProgress, 8),
    (Scenario::Resolved, 5),
    (Scenario::Verified, 4),
    (Scenario::FeedbackGiven, 4),
    (Scenario::Closed, 18),
    (Scenario::OnSpotResolved, 3),
    (Scenario::OnSpotClosed, 18),
    (Scenario::Suspended, 3),
    (Scenario::ResumedClosed, 2),
    (Scenario::ResubmittedClosed, 3),
    (Scenario::Reopened, 2),
    (Scenario::EscalatedToStreet, 3),
    (Scenario::EscalatedToDistrict, 2),
];

impl Scenario {
    /// How many days ago such an incident happened: open ones are recent.
    fn age_days(self) -> (i64, i64) {
        use Scenario::*;
        match self {
            Draft | Reported | OnSpotResolved => (0, 3),
            Accepted => (0, 6),
            Returned | Dispatched => (0, 12),
            InProgress | Resolved => (1, 25),
            Verified => (2, 30),
            FeedbackGiven | EscalatedToDistrict => (3, 40),
            Suspended => (5, 60),
            Closed | OnSpotClosed | ResumedClosed | ResubmittedClosed | Reopened
            | EscalatedToStreet => (6, 90),
        }
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Worker,
    Community,
    Street,
    /// Whoever handles a dispatch along the route.
    Handler(Route),
}

struct Step {
    action: Action,
    who: Who,
    opinion: &'static str,
    after_photos: bool,
    /// Minutes after the previous step, a range.
    gap: (i64, i64),
}

fn step(action: Action, who: Who, opinion: &'static str, gap: (i64, i64)) -> Step {
    Step {
        action,
        who,
        opinion,
        after_photos: false,
        gap,
    }
}

const ACCEPT: &[&str] = &[
    "情况属实，予以受理",
    "已受理，请跟进处置",
    "经核实属实，受理",
];
const RETURN: &[&str] = &[
    "现场照片不清晰，请补拍后重新上报",
    "事件地址不准确，请核实具体楼栋",
    "该事项属物业管理范围，请先联系物业处理",
    "事件描述不完整，请补充当事人信息",
];
const DISPATCH: &[&str] = &[
    "请于时限内处置并反馈结果",
    "请尽快到场核查处理",
    "转办处置，请按时办结",
];
const START: &[&str] = &[
    "已安排人员到场处置",
    "已联系当事人，正在处理",
    "已到现场核查",
];
const RESOLVE: &[&str] = &[
    "已处置完毕，现场恢复正常",
    "已责令整改，现场已清理",
    "已协调维修完成",
];
/// Resolutions of disputes, on the spot or later.
const SETTLED: &[&str] = &[
    "经调解双方达成一致，已签订调解协议",
    "现场调解，双方互谅互让，矛盾已化解",
];
const ON_SPOT: &[&str] = &[
    "现场劝导，当事人已自行清理",
    "已现场协调处理完毕",
    "网格员现场处置，问题已解决",
];
const VERIFY: &[&str] = &[
    "经现场核查，已处置到位",
    "已电话回访核实，处置完毕",
    "核查属实，同意办结",
];
const FEEDBACK: &[&str] = &["居民对处理结果表示满意", "回访当事人，反映问题已解决"];
const DISSATISFIED: &str = "居民反映问题未彻底解决，要求重新处理";
const CLOSE: &[&str] = &["办结归档", "同意结案", "处置完毕，予以结案"];
const SUSPEND: &[&str] = &[
    "需等待业主大会表决，暂时挂起",
    "涉及产权争议，待相关部门确权后处理",
    "当事人外出，暂无法联系，挂起待处理",
];
const RESUME: &str = "条件已具备，恢复办理";
const ESCALATE_STREET: &[&str] = &[
    "涉及多个部门，社区无法协调，申请街道吹哨",
    "问题反复出现，需街道统筹执法力量",
];
const ESCALATE_DISTRICT: &str = "涉及跨街道管网改造，申请区级协调";
const MEDIATED: &[&str] = &[
    "双方达成一致：责任方承担维修费用，三日内完成处理",
    "经调解，双方互谅互让，当场握手言和",
    "双方签订人民调解协议书，约定分期支付欠款",
    "房东同意退还押金2500元，租客承担部分修补费用",
];
const MEDIATION_FAILED: &str = "双方分歧较大，暂未达成一致，约定择日再次调解";

/// Generates a grid's incidents, and the parties records of those that
/// involve people (made by the incident's creator, as the incident is).
/// `first` is the demo-wide index of the grid's first incident.
/// Patrol-found incidents are linked to a patrol of the grid, both ways.
pub(super) fn generate(
    g: &mut Gen,
    ctx: &GridCtx,
    households: &[Household],
    patrols: &mut [Patrol],
    first: u64,
) -> (Vec<Incident>, Vec<IncidentParties>) {
    let village = !ctx.area.villages.is_empty();
    let templates: Vec<(&Template, u32)> = TEMPLATES
        .iter()
        .filter(|t| match t.fits {
            Fits::Any => true,
            Fits::Urban => !village,
            Fits::Village => village,
        })
        .filter(|t| !households.is_empty() || !needs_site(t))
        .map(|t| (t, t.weight))
        .collect();
    let mut per_day: HashMap<jiff::civil::Date, u32> = HashMap::new();
    let mut parties = Vec::new();
    let incidents = (0..u64::from(ctx.cfg.incidents_per_grid))
        .map(|j| {
            let index = first + j;
            let scenario = match SCENARIOS.get(index as usize) {
                Some((s, _)) => *s,
                None => g.weighted(SCENARIOS),
            };
            let template = g.weighted(&templates);
            let (incident, involved) = incident(
                g,
                ctx,
                template,
                scenario,
                households,
                patrols,
                &mut per_day,
            );
            if !involved.is_empty() {
                let m = &incident.meta;
                parties.push(IncidentParties::of(
                    &incident,
                    involved,
                    m.created_by.clone(),
                    m.created_at,
                ));
            }
            incident
        })
        .collect();
    (incidents, parties)
}

fn needs_site(t: &Template) -> bool {
    [t.title, t.description]
        .iter()
        .any(|s| s.contains("{site}") || s.contains("{bu}") || s.contains("{estate}"))
}

/// Where an incident is: the words for the template and the point.
struct Location {
    site: String,
    bu: String,
    estate: String,
    road: &'static str,
    no: u32,
    point: GeoPoint,
    on_site: bool,
}

fn locate(g: &mut Gen, ctx: &GridCtx, t: &Template, households: &[Household]) -> Location {
    let road = g.pick(&ctx.area.roads);
    let no = g.range(1..=320);
    if needs_site(t) {
        let h = g.pick_ref(households);
        let a = &h.address;
        let (estate, bu) = if a.estate.is_empty() {
            (a.village.clone(), format!("{}{}", a.group, a.detail))
        } else if a.unit.is_empty() {
            (a.estate.clone(), format!("{}栋", a.building))
        } else {
            (a.estate.clone(), format!("{}栋{}单元", a.building, a.unit))
        };
        let mut point = h.point.clone().unwrap_or_else(|| GeoPoint::wgs84(0.0, 0.0));
        point.accuracy_m = Some(f64::from(g.range(3..=20u32)));
        Location {
            site: format!("{estate}{bu}"),
            bu,
            estate,
            road,
            no,
            point,
            on_site: true,
        }
    } else {
        let [lon, lat] = ctx.area.quad.at(g.range(0.05..0.95), g.range(0.05..0.95));
        let mut point = GeoPoint::wgs84(lon, lat);
        point.accuracy_m = Some(f64::from(g.range(3..=20u32)));
        Location {
            site: String::new(),
            bu: String::new(),
            estate: String::new(),
            road,
            no,
            point,
            on_site: false,
        }
    }
}

fn fill(text: &str, l: &Location) -> String {
    text.replace("{site}", &l.site)
        .replace("{bu}", &l.bu)
        .replace("{estate}", &l.estate)
        .replace("{road}", l.road)
        .replace("{no}", &l.no.to_string())
}

fn incident(
    g: &mut Gen,
    ctx: &GridCtx,
    t: &Template,
    scenario: Scenario,
    households: &[Household],
    patrols: &mut [Patrol],
    per_day: &mut HashMap<jiff::civil::Date, u32>,
) -> (Incident, Vec<Party>) {
    let now = ctx.cfg.now_ms;
    let urgency = match t.major {
        C::Fire | C::WorkSafety => g.weighted(&[
            (Urgency::High, 40),
            (Urgency::Medium, 45),
            (Urgency::Low, 15),
        ]),
        _ => g.weighted(&[
            (Urgency::High, 15),
            (Urgency::Medium, 50),
            (Urgency::Low, 35),
        ]),
    };
    let route = t.route;
    let steps = plan(g, ctx, scenario, route, urgency, t.major == C::Dispute);
    let mut location = locate(g, ctx, t, households);
    let mut source = g.weighted(&[
        (IncidentSource::Patrol, 45),
        (IncidentSource::Resident, 25),
        (IncidentSource::Hotline12345, 20),
        (IncidentSource::Assigned, 10),
    ]);

    // Enough time after the incident for every step, a minute or more each.
    let need = 40 * MINUTE_MS + steps.len() as i64 * 10 * MINUTE_MS;
    let (min_age, max_age) = scenario.age_days();
    let mut happened_at = None;
    let mut patrol_index = None;
    if source == IncidentSource::Patrol {
        let earliest = now - max_age * DAY_MS - DAY_MS;
        let latest = now - min_age * DAY_MS - need;
        let fitting: Vec<usize> = patrols
            .iter()
            .enumerate()
            .filter(|(_, p)| p.started_at >= earliest && p.ended_at.is_some_and(|e| e <= latest))
            .map(|(i, _)| i)
            .collect();
        if fitting.is_empty() {
            source = IncidentSource::Resident;
        } else {
            let i = g.pick(&fitting);
            let track = &patrols[i].track;
            if !track.is_empty() {
                let p = g.pick(track);
                happened_at = Some(p.t_ms);
                if !location.on_site {
                    location.point = GeoPoint::wgs84(p.lon, p.lat);
                    location.point.accuracy_m = Some(f64::from(g.range(3..=12u32)));
                }
            }
            patrol_index = Some(i);
        }
    }
    let happened_at = happened_at.unwrap_or_else(|| {
        let day = clock::days_before(ctx.today, g.range(min_age..=max_age));
        let at = clock::at(day, g.range(7..=21), g.range(0..60));
        at.min(now - need - g.range(0..2 * clock::HOUR_MS))
    });
    let created_at = happened_at + g.range(2 * MINUTE_MS..30 * MINUTE_MS);

    let date = clock::shanghai_date(created_at);
    let seq = per_day.entry(date).or_insert(0);
    *seq += 1;
    let number = format!(
        "SJ{:04}{:02}{:02}-{}-{:04}",
        date.year(),
        date.month(),
        date.day(),
        ctx.area.device_tag,
        seq
    );
    let hotline_order = (source == IncidentSource::Hotline12345).then(|| {
        format!(
            "GZ{:04}{:02}{:02}{}",
            date.year(),
            date.month(),
            date.day(),
            g.digits(6)
        )
    });
    let lead = match source {
        IncidentSource::Patrol => "",
        IncidentSource::Resident => "居民到社区反映：",
        IncidentSource::Hotline12345 => "市民通过12345热线反映：",
        IncidentSource::Assigned => "上级交办：",
    };
    let mut description = lead.to_string();
    description.push_str(&fill(t.description, &location));
    let before_photos = match source {
        IncidentSource::Patrol | IncidentSource::Resident => g.chance(0.85),
        _ => g.chance(0.35),
    };
    let mut photos = Vec::new();
    if before_photos {
        for _ in 0..g.range(1..=3) {
            let at = g.range(happened_at..=created_at);
            photos.push(g.photo(PhotoRole::Before, at));
        }
    }

    let mut incident = Incident {
        meta: Meta {
            id: g.uuid_v7(created_at),
            grid: ctx.area.code.clone(),
            created_by: ctx.worker.id.clone(),
            created_at,
            deleted: false,
        },
        number,
        title: fill(t.title, &location),
        description,
        category: Category {
            major: t.major,
            minor: t.minor.to_string(),
        },
        source,
        urgency,
        point: Some(location.point.clone()),
        address: if location.on_site {
            location.site.clone()
        } else {
            format!("{}{}号", location.road, location.no)
        },
        happened_at,
        photos,
        hotline_order,
        patrol_id: patrol_index.map(|i| patrols[i].meta.id),
        mediation: None,
        log: Vec::new(),
    };
    // Drawn where the incident's own field was, so a seed gives the same
    // demo as before the parties moved to their own record.
    let involved = parties(g, ctx, t, source);
    if let Some(i) = patrol_index {
        patrols[i].incident_ids.push(incident.meta.id);
    }

    let times = schedule(g, &steps, created_at, now);
    let mut resolved_at = None;
    for (step, at) in steps.into_iter().zip(times) {
        let mut shas = Vec::new();
        if step.after_photos {
            for _ in 0..g.range(1..=2) {
                let taken_at = at - g.range(MINUTE_MS..10 * MINUTE_MS);
                let photo = g.photo(PhotoRole::After, taken_at);
                shas.push(photo.sha256.clone());
                incident.photos.push(photo);
            }
            resolved_at = Some((at, matches!(step.action, Action::ResolveOnSpot)));
        }
        let (user, role) = actor(ctx, step.who);
        let applied = workflow::transition(
            &mut incident,
            ctx.cal,
            Actor { user, role },
            step.action,
            step.opinion,
            shas,
            at,
        );
        debug_assert!(applied.is_ok(), "demo step rejected: {applied:?}");
        if applied.is_err() {
            break;
        }
    }
    if t.major == C::Dispute {
        incident.mediation = mediation(
            g,
            ctx,
            scenario,
            resolved_at,
            incident.log.last().map(|e| e.at),
        );
    }
    (incident, involved)
}

/// The people an incident involves: both sides of a dispute, or whoever
/// reported it.
fn parties(g: &mut Gen, ctx: &GridCtx, t: &Template, source: IncidentSource) -> Vec<Party> {
    let person = |g: &mut Gen, role: &str, with_id: bool| {
        let male = g.chance(0.55);
        let surname = people::surname(g, "汉族");
        let name = people::chinese_name(g, surname, male);
        let id_number = if with_id {
            let age: i64 = g.range(20..=75);
            let birth = clock::days_before(ctx.today, age * 365 + g.range(1..=364));
            let pool = if g.chance(0.6) { LOCAL } else { MIGRANT };
            let region = people::region_for(g, pool, birth.year());
            people::id_number(g, region.code, birth, male)
        } else {
            String::new()
        };
        Party {
            name,
            phone: if g.chance(0.9) {
                people::mobile(g)
            } else {
                String::new()
            },
            id_number,
            role: role.to_string(),
        }
    };
    if t.major == C::Dispute {
        let with_id = g.chance(0.5);
        vec![person(g, "申请人", with_id), person(g, "被申请人", with_id)]
    } else {
        match source {
            IncidentSource::Resident => vec![person(g, "反映人", false)],
            IncidentSource::Hotline12345 => vec![person(g, "来电人", false)],
            _ => Vec::new(),
        }
    }
}

/// The mediation record of a dispute: successful once it was resolved,
/// sometimes a failed first attempt while it is still open.
fn mediation(
    g: &mut Gen,
    ctx: &GridCtx,
    scenario: Scenario,
    resolved: Option<(i64, bool)>,
    last_step: Option<i64>,
) -> Option<Mediation> {
    let mediator = |g: &mut Gen| {
        let surname = people::surname(g, "汉族");
        let male = g.chance(0.5);
        people::chinese_name(g, surname, male)
    };
    match resolved {
        Some((at, on_spot)) => {
            let method = if on_spot {
                MediationMethod::OnSite
            } else {
                g.weighted(&[
                    (MediationMethod::PeoplesMediationCommittee, 5),
                    (MediationMethod::Joint, 3),
                    (MediationMethod::JudicialConfirmation, 1),
                ])
            };
            Some(Mediation {
                mediator: if on_spot {
                    ctx.worker.name.clone()
                } else {
                    mediator(g)
                },
                method,
                outcome: g.pick(MEDIATED).to_string(),
                success: true,
                mediated_at: Some(at),
            })
        }
        None if matches!(
            scenario,
            Scenario::Dispatched | Scenario::InProgress | Scenario::Suspended
        ) && g.chance(0.5) =>
        {
            Some(Mediation {
                mediator: ctx.worker.name.clone(),
                method: MediationMethod::OnSite,
                outcome: MEDIATION_FAILED.to_string(),
                success: false,
                mediated_at: last_step,
            })
        }
        None => None,
    }
}

/// When each step happens: gaps drawn from each step's range, squeezed
/// to fit before now when the incident is recent.
fn schedule(g: &mut Gen, steps: &[Step], created_at: i64, now: i64) -> Vec<i64> {
    let gaps: Vec<i64> = steps
        .iter()
        .map(|s| g.range(s.gap.0 * MINUTE_MS..=s.gap.1 * MINUTE_MS))
        .collect();
    let total: i64 = gaps.iter().sum();
    let room = now - created_at - MINUTE_MS;
    let scale = if total > room {
        room as f64 / total as f64
    } else {
        1.0
    };
    let mut t = created_at;
    gaps.iter()
        .map(|gap| {
            t += ((*gap as f64 * scale) as i64).max(1_000);
            t
        })
        .collect()
}

/// The user and role taking a step.
fn actor<'a>(ctx: &'a GridCtx, who: Who) -> (&'a str, Role) {
    match who {
        Who::Worker | Who::Handler(Route::Worker) => (&ctx.worker.id, Role::GridWorker),
        Who::Community => (&ctx.supervisor.id, Role::CommunitySupervisor),
        Who::Street => (&ctx.street.supervisor.id, Role::StreetSupervisor),
        Who::Handler(Route::Chengguan) => (&ctx.street.chengguan.id, Role::DepartmentHandler),
        Who::Handler(Route::Huanbao) => (&ctx.street.huanbao.id, Role::DepartmentHandler),
    }
}

/// The steps of a scenario. `route` decides who handles a dispatch;
/// escalated incidents go to a department whatever the route.
fn plan(
    g: &mut Gen,
    ctx: &GridCtx,
    scenario: Scenario,
    route: Route,
    urgency: Urgency,
    dispute: bool,
) -> Vec<Step> {
    use Scenario::*;
    use Who::*;
    let (resolved, on_spot_texts) = if dispute {
        (SETTLED, SETTLED)
    } else {
        (RESOLVE, ON_SPOT)
    };
    let deadline_days = match urgency {
        Urgency::High => g.range(1..=2),
        Urgency::Medium => g.range(3..=5),
        Urgency::Low => g.range(5..=10),
    };
    let report = || step(Action::Report, Worker, "", (3, 60));
    let accept = |g: &mut Gen, who| step(Action::Accept, who, g.pick(ACCEPT), (20, 480));
    let ret = |g: &mut Gen| step(Action::Return, Community, g.pick(RETURN), (30, 600));
    let dispatch = |g: &mut Gen, who, route: Route| {
        let to = match route {
            Route::Chengguan => Assignee {
                kind: AssigneeKind::Department,
                // The department as handlers and the console name it.
                id: "城管".into(),
                name: "石牌街综合行政执法队".into(),
            },
            Route::Huanbao => Assignee {
                kind: AssigneeKind::Department,
                id: "环保".into(),
                name: "天河区生态环境分局".into(),
            },
            Route::Worker => Assignee {
                kind: AssigneeKind::Person,
                id: ctx.worker.id.clone(),
                name: ctx.worker.name.clone(),
            },
        };
        step(
            Action::Dispatch { to, deadline_days },
            who,
            g.pick(DISPATCH),
            (10, 240),
        )
    };
    let start = |g: &mut Gen, route| step(Action::Start, Handler(route), g.pick(START), (60, 1440));
    let resolve = |g: &mut Gen, route| Step {
        after_photos: true,
        ..step(
            Action::Resolve,
            Handler(route),
            g.pick(resolved),
            (
                i64::from(deadline_days) * 300,
                i64::from(deadline_days) * 2_000,
            ),
        )
    };
    let on_spot = |g: &mut Gen| Step {
        after_photos: true,
        ..step(
            Action::ResolveOnSpot,
            Worker,
            g.pick(on_spot_texts),
            (10, 90),
        )
    };
    let verify = |g: &mut Gen, who| step(Action::Verify, who, g.pick(VERIFY), (120, 2880));
    let feedback = |g: &mut Gen| {
        let satisfaction = g.weighted(&[
            (Satisfaction::Satisfied, 55),
            (Satisfaction::VerySatisfied, 45),
        ]);
        step(
            Action::Feedback { satisfaction },
            Worker,
            g.pick(FEEDBACK),
            (240, 4320),
        )
    };
    let close = |g: &mut Gen, who| step(Action::Close, who, g.pick(CLOSE), (60, 1440));
    let suspend = |g: &mut Gen| step(Action::Suspend, Community, g.pick(SUSPEND), (600, 4320));
    let escalate = |g: &mut Gen, to, who| {
        let opinion = if to == Level::District {
            ESCALATE_DISTRICT
        } else {
            g.pick(ESCALATE_STREET)
        };
        step(Action::Escalate { to }, who, opinion, (60, 1440))
    };
    // Dispatch, start and resolve by `who`'s choice of handler.
    let handle = |g: &mut Gen, s: &mut Vec<Step>, who, route| {
        s.push(dispatch(g, who, route));
        s.push(start(g, route));
        s.push(resolve(g, route));
    };
    let finish = |g: &mut Gen, s: &mut Vec<Step>, who| {
        s.push(verify(g, who));
        if g.chance(0.85) {
            s.push(feedback(g));
        }
        s.push(close(g, who));
    };

    let mut s = Vec::new();
    match scenario {
        Draft => {}
        Reported => s.push(report()),
        Returned => s.extend([report(), ret(g)]),
        Accepted => s.extend([report(), accept(g, Community)]),
        Dispatched | InProgress | Resolved | Verified | FeedbackGiven | Closed => {
            s.extend([
                report(),
                accept(g, Community),
                dispatch(g, Community, route),
            ]);
            if scenario != Dispatched {
                s.push(start(g, route));
            }
            if !matches!(scenario, Dispatched | InProgress) {
                s.push(resolve(g, route));
            }
            if matches!(scenario, Verified | FeedbackGiven) {
                s.push(verify(g, Community));
            }
            if scenario == FeedbackGiven {
                s.push(feedback(g));
            }
            if scenario == Closed {
                finish(g, &mut s, Community);
            }
        }
        OnSpotResolved => s.extend([report(), on_spot(g)]),
        OnSpotClosed => {
            s.extend([report(), on_spot(g)]);
            finish(g, &mut s, Community);
        }
        Suspended => {
            s.extend([report(), accept(g, Community)]);
            if g.chance(0.5) {
                s.push(dispatch(g, Community, route));
            }
            s.push(suspend(g));
        }
        ResumedClosed => {
            s.extend([report(), accept(g, Community), suspend(g)]);
            s.push(step(Action::Resume, Community, RESUME, (1440, 10080)));
            handle(g, &mut s, Community, route);
            finish(g, &mut s, Community);
        }
        ResubmittedClosed => {
            s.extend([report(), ret(g)]);
            s.push(step(Action::Report, Worker, "已按要求补充材料", (60, 1440)));
            s.push(accept(g, Community));
            handle(g, &mut s, Community, route);
            finish(g, &mut s, Community);
        }
        Reopened => {
            s.extend([report(), accept(g, Community)]);
            handle(g, &mut s, Community, route);
            s.push(verify(g, Community));
            s.push(step(
                Action::Feedback {
                    satisfaction: Satisfaction::Dissatisfied,
                },
                Worker,
                DISSATISFIED,
                (240, 4320),
            ));
            handle(g, &mut s, Community, route);
            s.push(verify(g, Community));
            s.push(feedback(g));
            s.push(close(g, Community));
        }
        EscalatedToStreet => {
            s.push(report());
            if g.chance(0.5) {
                s.push(escalate(g, Level::Street, Worker));
            } else {
                s.push(accept(g, Community));
                s.push(escalate(g, Level::Street, Community));
            }
            s.push(accept(g, Street));
            let department = if route == Route::Huanbao {
                Route::Huanbao
            } else {
                Route::Chengguan
            };
            handle(g, &mut s, Street, department);
            finish(g, &mut s, Street);
        }
        EscalatedToDistrict => {
            s.extend([report(), accept(g, Community)]);
            s.push(escalate(g, Level::Street, Community));
            s.push(escalate(g, Level::District, Street));
        }
    }
    s
}
