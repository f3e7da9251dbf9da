"""Bilingual labels (Chinese / English) for every printed word of a report.

Labels are data: one table, one entry per key, both languages side by side, so a missing
translation is visible in review and a test can check that every key has both. Stored values
(messages, names) are printed as they were recorded; reasons, load points and regulation
titles go through ``reports.translations``.
"""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = get_args(Lang)

_LABELS: dict[str, tuple[str, str]] = {
    # document titles
    "record_title": ("原始记录", "Original verification record"),
    "certificate_title": ("检定证书", "Verification certificate"),
    "notice_title": ("检定结果通知书", "Verification result notice"),
    "batch_title": ("批量检定报告", "Batch verification report"),
    # sections
    "run": ("检定任务", "Verification run"),
    "meter": ("被检表", "Meter under test"),
    "nameplate": ("铭牌参数", "Nameplate"),
    "standard": ("所用计量标准", "Measurement standard used"),
    "environment": ("环境条件", "Environment"),
    "results": ("检定结果", "Results"),
    "items": ("检定项目", "Verification items"),
    "conclusion": ("结论", "Conclusion"),
    "personnel": ("人员", "Personnel"),
    "integrity": ("防篡改校验", "Tamper evidence"),
    "error_log": ("运行日志（错误与重试）", "Error log (timeouts, retries, faults)"),
    "batch_statistics": ("批次统计（平均误差判定）", "Batch statistics (mean-error verdict)"),
    "summary_positions": ("按表位汇总", "Summary per position"),
    "summary_items": ("按项目汇总", "Summary per item"),
    "plots": ("误差图", "Error plots"),
    "failed_items": ("不合格项目", "Failed items"),
    "meter_events": ("本表位日志", "Log entries of this position"),
    # fields
    "run_id": ("任务记录号", "Run id"),
    "task": ("任务单号", "Task number"),
    "bench": ("检定装置编号", "Bench number"),
    "position": ("表位", "Position"),
    "plan": ("检定方案", "Plan"),
    "regulation": ("检定依据", "Verification basis"),
    "software": ("软件版本", "Software version"),
    "firmware": ("控制器固件", "Controller firmware"),
    "status": ("状态", "Status"),
    "started": ("开始时间", "Started"),
    "finished": ("结束时间", "Finished"),
    "verification_date": ("检定日期", "Date of verification"),
    "valid_until": ("有效期至", "Valid until"),
    "serial_no": ("出厂编号", "Serial number"),
    "asset_no": ("资产编号", "Asset number"),
    "address": ("通信地址", "Address"),
    "meter_type": ("表型", "Meter type"),
    "customer": ("送检单位", "Submitted by"),
    "retest_of": ("复检（原记录）", "Re-test of run"),
    "standard_name": ("标准器名称", "Name"),
    "standard_model": ("型号", "Model"),
    "standard_serial": ("编号", "Serial number"),
    "accuracy_class": ("准确度等级", "Accuracy class"),
    "standard_certificate": ("标准器证书编号", "Certificate of the standard"),
    "standard_valid_until": ("证书有效期至", "Certificate valid until"),
    "standard_constant": ("标准常数", "Standard constant"),
    "timebase": ("时基", "Time base"),
    "temperature": ("温度", "Temperature"),
    "humidity": ("相对湿度", "Relative humidity"),
    "place": ("地点", "Place"),
    "verifier": ("检定员", "Verifier"),
    "checker": ("核验员", "Checker"),
    "approver": ("批准人", "Approver"),
    "issuer": ("检定机构", "Issued by"),
    "certificate_no": ("证书编号", "Certificate number"),
    "notice_no": ("通知书编号", "Notice number"),
    "document_no": ("证书/通知书编号", "Certificate / notice number"),
    "final_hash": ("记录最终哈希", "Final hash of the record"),
    "chain_rows": ("链内记录行数", "Rows in the chain"),
    "chain_state": ("哈希链", "Hash chain"),
    "chain_ok": ("完整，未被改动", "intact, not altered"),
    "chain_broken": ("已被改动！", "ALTERED!"),
    "lab_signature": ("本机构数字签名", "Signature of the lab"),
    "signed_rows": ("签名覆盖的记录行数", "Rows covered by the signature"),
    "signing_key": ("签名密钥标识", "Signing key id"),
    "signed_at": ("签名时间", "Signed at"),
    "signature_qr": (
        "二维码内容：证书编号、任务、行数、最终哈希、签名时间、密钥标识与签名，"
        "可用本机构公布的公钥离线核验",
        "QR code: certificate number, run, rows, final hash, signing time, key id and signature, "
        "checkable offline with the lab's published public key",
    ),
    "verify_hint": (
        "用 `meterbench records verify {run} --expect {hash}` 复核本记录",
        "check this record with `meterbench records verify {run} --expect {hash}`",
    ),
    "tamper_banner": (
        "警告：本次任务的哈希链校验失败，本文件不能作为有效记录：{problem}",
        "WARNING: the hash chain of this run does not verify; this document is NOT a valid "
        "record: {problem}",
    ),
    "provisional_banner": (
        "任务尚未结束（状态：{status}），本记录为临时记录",
        "The run is not closed (status: {status}); this record is provisional",
    ),
    "notice_statement": (
        "经检定，该表不符合检定规程要求，不合格项目如下。",
        "The meter does not meet the requirements of the regulation in the items below.",
    ),
    "certificate_statement": (
        "经检定，该表符合检定规程要求，准予使用。",
        "The meter meets the requirements of the regulation.",
    ),
    "page2_note": ("第 2 页：所用标准与检定条件", "Page 2: standard used and conditions"),
    "page3_note": ("第 3 页：检定结果", "Page 3: results"),
    "page": ("第 {page} 页 / 共 {pages} 页", "page {page} of {pages}"),
    # table columns
    "item": ("项目", "Item"),
    "point": ("检定点", "Point"),
    "parameters": ("参数", "Parameters"),
    "reading": ("序号", "No."),
    "readings": ("各次读数", "Readings"),
    "attempt": ("重测", "Try"),
    "time": ("时间", "Time"),
    "value": ("数值", "Value"),
    "raw": ("原始计数", "Raw counts"),
    "reading_status": ("读数状态", "Reading status"),
    "limit_kind": ("限值类别", "Limit kind"),
    "mean": ("平均值", "Mean"),
    "rounded": ("化整值", "Rounded"),
    "limits": ("限值", "Limits"),
    "lower": ("下限", "Lower"),
    "upper": ("上限", "Upper"),
    "outcome": ("结论", "Outcome"),
    "reason": ("原因", "Reason"),
    "details": ("详细", "Details"),
    "overall": ("总结论", "Overall"),
    "legal_verdict": ("法定结论", "Legal verdict"),
    "acceptance_verdict": ("用户验收结论", "Acceptance verdict"),
    "document": ("出具文件", "Document"),
    "n": ("n", "n"),
    "std": ("标准偏差", "Std"),
    "minimum": ("最小", "Min"),
    "maximum": ("最大", "Max"),
    "verdict": ("判定", "Verdict"),
    "batch_rule": (
        "判定规则：同型号同检定点各表未化整平均误差的平均值 ē ≤ 0 为合格",
        "Rule: the mean ē of the meters' unrounded mean errors, per type and point, must be ≤ 0",
    ),
    "severity": ("级别", "Severity"),
    "kind": ("类型", "Kind"),
    "message": ("内容", "Message"),
    "frames": ("报文", "Frames"),
    "step": ("步骤", "Step"),
    "count_pass": ("合格", "Passed"),
    "count_fail": ("不合格", "Failed"),
    "count_other": ("无结果/错误", "No result / error"),
    "none": ("无", "none"),
    # plots
    "plot_error_vs_point": ("各表误差随检定点变化", "Error vs load point, per meter"),
    "plot_distribution": ("各检定点误差分布（全批）", "Distribution of errors per point (batch)"),
    "axis_point": ("检定点", "Load point"),
    "axis_error": ("误差 (%)", "Error (%)"),
    "mpe_band": ("最大允许误差", "MPE"),
    "batch_mean": ("批平均", "batch mean"),
    # outcomes and kinds
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
    "no_result": ("无结果", "no result"),
    "error": ("错误", "error"),
    "mpe": ("最大允许误差", "MPE"),
    "acceptance": ("验收限值", "acceptance limit"),
    "ok": ("有效", "ok"),
    "retried": ("重测", "retried"),
    "invalid": ("无效", "invalid"),
    "marked": ("标记", "marked"),
    "info": ("信息", "info"),
    "warning": ("警告", "warning"),
    "running": ("进行中", "running"),
    "completed": ("已完成", "completed"),
    "aborted": ("已中止", "aborted"),
    "interrupted": ("已中断", "interrupted"),
    "certificate": ("检定证书", "certificate"),
    "notice": ("结果通知书", "result notice"),
    # verification items
    "item_visual": ("外观检查", "Visual inspection"),
    "item_ac_voltage": ("交流电压试验", "AC voltage test"),
    "item_creep": ("潜动试验", "No-load (creep) test"),
    "item_starting": ("起动试验", "Starting test"),
    "item_basic_error": ("基本误差", "Basic error"),
    "item_std_dev": ("标准偏差估计值", "Standard deviation estimate"),
    "item_register": ("走字试验（计度器）", "Register test"),
    "item_clock": ("日计时误差", "Clock daily error"),
    "item_communication": ("通信测试", "Communication"),
    "item_time_setting": ("时钟设置", "Time setting"),
    "item_water_error": ("示值误差", "Error of indication"),
    "item_heat_flow": ("流量传感器示值误差", "Flow sensor error"),
    "item_heat_calculator": ("计算器示值误差", "Calculator error"),
    "item_heat_sensor_pair": ("配对温度传感器示值误差", "Temperature sensor pair error"),
    "item_heat_complete": ("热量表整体示值误差", "Complete heat meter error"),
    "item_tightness": ("密封性检查", "Tightness test"),
    # lab, signatures, traceability (certificates and notices)
    "lab": ("检定机构", "Verification institute"),
    "lab_address": ("地址", "Address"),
    "lab_phone": ("电话", "Telephone"),
    "authorisation": ("授权证书号", "Authorisation number"),
    "examination_certificate": ("计量标准考核证书号", "Examination certificate of the standard"),
    "standard_uncertainty": ("测量不确定度", "Uncertainty of measurement"),
    "traceability": ("量值溯源", "Traceability"),
    "traceability_statement": (
        "本次检定所用计量标准经考核合格（证书号 {cert}），{chain}。",
        "The measurement standard used was examined and approved (certificate {cert}); {chain}.",
    ),
    "uncertainty_statement": (
        "检定所用计量标准的测量不确定度：{uncertainty}；检定结果的判定已计及该不确定度。",
        "Uncertainty of the standard used: {uncertainty}; the verdicts take it into account.",
    ),
    "signatures": ("签字", "Signatures"),
    "signature": ("签名", "Signature"),
    "sign_date": ("日期", "Date"),
    "regulation_title": ("检定依据（规程全称）", "Regulation (full title)"),
    "manual_items": ("人工检查项目", "Manual items"),
    "manual_verifier": ("检查人", "Checked by"),
    "not_recorded": ("未记录", "not recorded"),
    "note": ("备注", "Note"),
    "lot": ("批次", "Lot"),
    "lot_statistics": ("批次平均误差（仅计合格表）", "Lot mean error (accepted meters only)"),
    "lot_rule": (
        "判定规则：批次内合格表在各计入检定点的平均误差（按规程化整）不大于零为合格；"
        "全部表（含不合格表）的平均值仅供参考",
        "Rule: at every counted point the mean error of the lot's accepted meters, rounded as "
        "the regulation rounds, must not be above zero; the all-meter mean is for reference",
    ),
    "n_all": ("全部表数", "n (all)"),
    "mean_all": ("全部表平均", "Mean (all)"),
    "counted": ("计入判定", "Counted"),
    "runs": ("检定任务", "Runs"),
    "lot_verdict": ("批次结论", "Lot verdict"),
    "consequence": ("处理", "Consequence"),
    "flag": ("标记该批次", "flag the lot"),
    "withhold": ("暂扣该批次证书", "withhold the lot's certificates"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "appendix_frames": ("附录：通信报文", "Appendix: bus frames"),
    "frames_in_appendix": ("报文见附录", "frames: see the appendix"),
    # nameplate keys
    "np_manufacturer": ("制造厂", "Manufacturer"),
    "np_model": ("型号", "Model"),
    "np_name": ("名称", "Name"),
    "np_class": ("准确度等级", "Accuracy class"),
    "np_rating": ("电流规格", "Current rating"),
    "np_voltage_rating": ("电压规格", "Voltage rating"),
    "np_un_v": ("参比电压 (V)", "Reference voltage (V)"),
    "np_ib_a": ("基本电流 (A)", "Basic current (A)"),
    "np_imax_a": ("最大电流 (A)", "Maximum current (A)"),
    "np_constant": ("常数", "Constant"),
    "np_constant_imp_per_kwh": ("常数 (imp/kWh)", "Constant (imp/kWh)"),
    "np_frequency_hz": ("频率 (Hz)", "Frequency (Hz)"),
    "np_connection": ("接入方式", "Connection"),
    "np_wiring": ("接线方式", "Wiring"),
    "np_protocol": ("通信规约", "Protocol"),
    "np_baud_rates": ("可用通信速率", "Baud rates"),
    "np_q3_m3h": ("常用流量 Q3 (m³/h)", "Permanent flow Q3 (m³/h)"),
    "np_r": ("量程比 R", "Ratio R"),
    "np_dn": ("公称口径 DN", "Nominal size DN"),
    "np_scale_interval_l": ("检定分度值 (L)", "Verification scale interval (L)"),
    "np_orientation": ("安装方向", "Orientation"),
    "np_id": ("表型代码", "Type code"),
    "np_notes": ("备注", "Notes"),
    "np_in_a": ("额定电流 (A)", "Nominal current (A)"),
    "np_itr_a": ("转折电流 (A)", "Transitional current (A)"),
    "np_imin_a": ("最小电流 (A)", "Minimum current (A)"),
    "np_constant_imp_per_kvarh": ("无功常数 (imp/kvarh)", "Reactive constant (imp/kvarh)"),
    "np_clock": ("内置时钟", "Clock"),
    "np_tariffs": ("费率数", "Tariffs"),
    "np_bidirectional": ("双向计量", "Bidirectional"),
    "np_register_resolution_kwh": ("计度器分辨力 (kWh)", "Register resolution (kWh)"),
    "np_batch_statistics": ("批次统计", "Batch statistics"),
    "np_pulse_value_l": ("脉冲当量 (L)", "Pulse value (L)"),
    "np_constant_imp_per_l": ("常数 (imp/L)", "Constant (imp/L)"),
    "np_temperature_class": ("温度等级", "Temperature class"),
    "np_second_pulse_output": ("秒脉冲输出", "Second pulse output"),
    # heat meters (JJG 225)
    "np_application": ("计量用途", "Application"),
    "np_qp_m3h": ("常用流量 qp (m³/h)", "Permanent flow qp (m³/h)"),
    "np_qi_m3h": ("最小流量 qi (m³/h)", "Minimum flow qi (m³/h)"),
    "np_qs_m3h": ("最大流量 qs (m³/h)", "Upper flow qs (m³/h)"),
    "np_theta_min_c": ("最低温度 θmin (℃)", "Minimum temperature θmin (°C)"),
    "np_theta_max_c": ("最高温度 θmax (℃)", "Maximum temperature θmax (°C)"),
    "np_delta_theta_min_k": ("最小温差 Δθmin (K)", "Minimum difference Δθmin (K)"),
    "np_delta_theta_max_k": ("最大温差 Δθmax (K)", "Maximum difference Δθmax (K)"),
    "np_installation": ("安装位置", "Installation"),
    "np_sensor": ("温度传感器", "Temperature sensor"),
    "np_construction": ("结构型式", "Construction"),
    "np_pressure_mpa": ("工作压力 (MPa)", "Pressure (MPa)"),
    "np_volume_resolution_l": ("体积分辨力 (L)", "Volume resolution (L)"),
    "np_heat_resolution": ("热量分辨力", "Heat resolution"),
    "np_heat_unit": ("热量单位", "Heat unit"),
    # gas meters (JJG 577)
    "np_designation": ("规格型号", "Designation"),
    "np_qmax_m3h": ("最大流量 qmax (m³/h)", "Maximum flow qmax (m³/h)"),
    "np_qmin_m3h": ("最小流量 qmin (m³/h)", "Minimum flow qmin (m³/h)"),
    "np_cyclic_volume_l": ("回转体积 (L)", "Cyclic volume (L)"),
    "np_register_resolution_l": ("计数器最小分度值 (L)", "Register resolution (L)"),
    "np_pmax_kpa": ("最大工作压力 (kPa)", "Maximum pressure (kPa)"),
    "np_temperature_compensated": ("温度补偿", "Temperature compensated"),
    # nameplate values
    "npv_direct": ("直接接入", "direct"),
    "npv_ct": ("经互感器接入", "via transformers"),
    "npv_1p": ("单相", "single-phase"),
    "npv_3p4w": ("三相四线", "three-phase four-wire"),
    "npv_3p3w": ("三相三线", "three-phase three-wire"),
    "npv_true": ("是", "yes"),
    "npv_false": ("否", "no"),
    "npv_none": ("无", "none"),
}

# Which of the above name verification items, by Step.item.
ITEM_PREFIX = "item_"
NAMEPLATE_PREFIX = "np_"


class Labels:
    """Label lookup for one language; unknown keys print as themselves (never a crash)."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGS)}")
        self.lang: Lang = "zh" if lang == "zh" else "en"
        self._index = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        pair = _LABELS.get(key)
        text = pair[self._index] if pair else key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in _LABELS

    def item(self, item: str) -> str:
        """A verification item's name (an unknown item prints as its identifier)."""
        key = ITEM_PREFIX + item
        return self(key) if key in _LABELS else item

    def nameplate(self, key: str) -> str:
        full = NAMEPLATE_PREFIX + key
        return self(full) if full in _LABELS else key

    def nameplate_value(self, text: str) -> str:
        """A coded nameplate value (direct, 3p4w, true) in words; other values as stored."""
        full = "npv_" + text
        return self(full) if full in _LABELS else text

    def both(self, key: str) -> str:
        """'中文 / English' for titles printed in both languages on certificates."""
        zh, en = _LABELS[key]
        return f"{zh} / {en}" if self.lang == "zh" else f"{en} / {zh}"


def all_keys() -> list[str]:
    return list(_LABELS)
