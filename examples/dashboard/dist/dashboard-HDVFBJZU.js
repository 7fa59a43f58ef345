"use strict";(()=>{var be=`# Everything the dashboard shows, in one request. A section the member's
# role may not read comes back null with a FORBIDDEN error at its path; the
# dashboard says so in that section and shows the others.
query Dashboard {
  me {
    id
    name
    domain
    status
    plan {
      id
      name
      monthlyPriceCents
      currency
    }
    limits {
      users
      policies
      interactionsPerMonth
      apiRequestsPerMinute
    }
    usage {
      activeUsers
      policies
      interactionsThisMonth
    }
    invoices(first: 12) {
      totalCount
      nodes {
        id
        number
        status
        date
        dueDate
        amount {
          formatted
        }
        pdfUrl
      }
    }
    apiKeys(first: 50) {
      totalCount
      nodes {
        id
        name
        prefix
        status
        createdAt
        lastUsedAt
        expiresAt
      }
    }
    members(first: 50) {
      totalCount
      nodes {
        id
        email
        name
        role
        status
      }
    }
    events(first: 10) {
      nodes {
        id
        type
        wireType
        at
        actor
        action
      }
    }
  }
}
`;var we=`# Ends the session and clears its cookie.
mutation SignOut {
  logout {
    session {
      id
    }
  }
}
`;var Ee=`# The signed-in member's tenant's events as they commit (over the
# graphql-transport-ws websocket of /graphql). Same fields as the
# Dashboard query's recent events.
subscription TenantEvents {
  tenantEvents {
    id
    type
    wireType
    at
    actor
    action
  }
}
`;var xe=`# Who the browser is signed in as: ANONYMOUS until the person signs in at
# /signin (the session cookie then authenticates every request).
query Viewer {
  viewer {
    kind
    permissions
    member {
      email
      name
      role
    }
  }
}
`;var We="/graphql";function F(e,t){return{name:e,document:t}}var re=F("Viewer",xe),ve=F("Dashboard",be),Te=F("SignOut",we),oe=F("TenantEvents",Ee),C=class extends Error{};async function W(e,t){let n=await fetch(We,{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/json",Accept:"application/graphql-response+json, application/json","X-Requested-With":"dashboard"},body:JSON.stringify({query:e.document,operationName:e.name,variables:t})});if(n.status===401)throw new C("Your session has ended: sign in again.");let r=await n.json().catch(()=>null);if(!_e(r))throw new Error(`The API answered HTTP ${n.status} without a GraphQL response.`);let c=r.errors??[];if(!("data"in r)||r.data==null){if(c.length===0)throw new Error(`The API answered HTTP ${n.status} with no data.`);return{data:null,errors:c}}return{data:r.data,errors:c}}function _e(e){return typeof e=="object"&&e!==null&&("data"in e||"errors"in e)}function P(e,...t){return e.find(n=>n.path!==void 0&&t.every((r,c)=>n.path?.[c]===r))}function w(e){return e===null?"null":Array.isArray(e)?"array":typeof e}function $(e){return w(e)==="object"}function ze(e){return Array.isArray(e)&&e.length>0&&e.every(t=>"message"in t)}function ie(e,t){return e.length<124?e:t}var Se="graphql-transport-ws";var E=(e=>(e[e.InternalServerError=4500]="InternalServerError",e[e.InternalClientError=4005]="InternalClientError",e[e.BadRequest=4400]="BadRequest",e[e.BadResponse=4004]="BadResponse",e[e.Unauthorized=4401]="Unauthorized",e[e.Forbidden=4403]="Forbidden",e[e.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",e[e.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",e[e.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",e[e.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",e[e.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",e))(E||{}),x=(e=>(e.ConnectionInit="connection_init",e.ConnectionAck="connection_ack",e.Ping="ping",e.Pong="pong",e.Subscribe="subscribe",e.Next="next",e.Error="error",e.Complete="complete",e))(x||{});function ke(e){if(!$(e))throw new Error(`Message is expected to be an object, but got ${w(e)}`);if(!e.type)throw new Error("Message is missing the 'type' property");if(typeof e.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${w(e.type)}`);switch(e.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(e.payload!=null&&!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${e.payload}"`);break}case"subscribe":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${w(e.payload)}`);if(typeof e.payload.query!="string")throw new Error(`"${e.type}" message payload expects the 'query' property to be a string, but got ${w(e.payload.query)}`);if(e.payload.variables!=null&&!$(e.payload.variables))throw new Error(`"${e.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${w(e.payload.variables)}`);if(e.payload.operationName!=null&&w(e.payload.operationName)!=="string")throw new Error(`"${e.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${w(e.payload.operationName)}`);if(e.payload.extensions!=null&&!$(e.payload.extensions))throw new Error(`"${e.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${w(e.payload.extensions)}`);break}case"next":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${w(e.payload)}`);break}case"error":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!ze(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(e.payload)}`);break}case"complete":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${e.type}"`)}return e}function Oe(e,t){return ke(typeof e=="string"?JSON.parse(e,t):e)}function q(e,t){return ke(e),JSON.stringify(e,t)}function Ae(e){let{url:t,connectionParams:n,lazy:r=!0,onNonLazyError:c=console.error,lazyCloseTimeout:u=0,keepAlive:v=0,disablePong:X,connectionAckWaitTimeout:S=0,retryAttempts:T=5,retryWait:O=async function(p){let o=Math.pow(2,p);await new Promise(d=>setTimeout(d,o*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:Z=ae,on:y,webSocketImpl:ee,generateID:Re=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,p=>{let o=Math.random()*16|0;return(p=="x"?o:o&3|8).toString(16)})},jsonMessageReplacer:z,jsonMessageReviver:Ne}=e,M;if(ee){if(!je(ee))throw new Error("Invalid WebSocket implementation provided");M=ee}else typeof WebSocket<"u"?M=WebSocket:typeof global<"u"?M=global.WebSocket||global.MozWebSocket:typeof window<"u"&&(M=window.WebSocket||window.MozWebSocket);if(!M)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let L=M,h=(()=>{let i=(()=>{let o={};return{on(d,m){return o[d]=m,()=>{delete o[d]}},emit(d){"id"in d&&o[d.id]?.(d)}}})(),p={connecting:y?.connecting?[y.connecting]:[],opened:y?.opened?[y.opened]:[],connected:y?.connected?[y.connected]:[],ping:y?.ping?[y.ping]:[],pong:y?.pong?[y.pong]:[],message:y?.message?[i.emit,y.message]:[i.emit],closed:y?.closed?[y.closed]:[],error:y?.error?[y.error]:[]};return{onMessage:i.on,on(o,d){let m=p[o];return m.push(d),()=>{let f=m.indexOf(d);f>-1&&m.splice(f,1)}},emit(o,...d){for(let m of[...p[o]])m(...d)}}})();function te(i){let p=[h.on("error",o=>{p.forEach(d=>d()),i(o)}),h.on("closed",o=>{p.forEach(d=>d()),i(o)})];return()=>p.forEach(o=>o())}let I,A=0,ne,G=!1,U=0,me=!1;async function fe(){clearTimeout(ne);let[i,p]=await(I??(I=new Promise((m,f)=>(async()=>{if(G){if(await O(U),!A)return I=void 0,f({code:1e3,reason:"All Subscriptions Gone"});U++}h.emit("connecting",G);let a=new L(typeof t=="function"?await t():t,Se),k,R;function j(){isFinite(v)&&v>0&&(clearTimeout(R),R=setTimeout(()=>{a.readyState===L.OPEN&&(a.send(q({type:x.Ping})),h.emit("ping",!1,void 0))},v))}te(b=>{I=void 0,clearTimeout(k),clearTimeout(R),f(b),b instanceof H&&(a.close(4499,"Terminated"),a.onerror=null,a.onclose=null)}),a.onerror=b=>h.emit("error",b),a.onclose=b=>h.emit("closed",b),a.onopen=async()=>{try{h.emit("opened",a);let b=typeof n=="function"?await n():n;if(a.readyState!==L.OPEN)return;a.send(q(b?{type:x.ConnectionInit,payload:b}:{type:x.ConnectionInit},z)),isFinite(S)&&S>0&&(k=setTimeout(()=>{a.close(E.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},S)),j()}catch(b){h.emit("error",b),a.close(E.InternalClientError,ie(b instanceof Error?b.message:String(b),"Internal client error"))}};let N=!1;a.onmessage=({data:b})=>{try{let g=Oe(b,Ne);if(h.emit("message",g),g.type==="ping"||g.type==="pong"){h.emit(g.type,!0,g.payload),g.type==="pong"?j():X||(a.send(q(g.payload?{type:x.Pong,payload:g.payload}:{type:x.Pong},z)),h.emit("pong",!1,g.payload));return}if(N)return;if(g.type!==x.ConnectionAck)throw new Error(`First message cannot be of type ${g.type}`);clearTimeout(k),N=!0,h.emit("connected",a,g.payload,G),G=!1,U=0;let he=new Promise((rt,Ce)=>te(Ce));he.catch(()=>{}),m([a,he])}catch(g){a.onmessage=null,h.emit("error",g),a.close(E.BadResponse,ie(g instanceof Error?g.message:String(g),"Bad response"))}}})())));i.readyState===L.CLOSING&&await p;let o=()=>{},d=new Promise(m=>o=m);return[i,o,new Promise((m,f)=>{let a=te(f);i.readyState!==L.OPEN&&p.catch(f),d.then(()=>{if(a(),!A){let k=()=>i.close(1e3,"Normal Closure");isFinite(u)&&u>0?(clearTimeout(ne),ne=setTimeout(()=>{!A&&i.readyState===L.OPEN&&k()},u)):k()}m()})})]}function ge(i){if(ae(i)&&(Ue(i.code)||[E.InternalServerError,E.InternalClientError,E.BadRequest,E.BadResponse,E.Unauthorized,E.SubprotocolNotAcceptable,E.SubscriberAlreadyExists,E.TooManyInitialisationRequests].includes(i.code)))throw i;if(me)return!1;if(ae(i)&&i.code===1e3)return A>0;if(!T||U>=T||!Z(i))throw i;return G=!0}r||(async()=>{for(A++;;)try{let[,,i]=await fe();await i}catch(i){try{if(!ge(i))return}catch(p){return c?.(p)}}})();function ye(i,p){let o=Re(i),d=!1,m=!1,f=()=>{A--,d=!0};return(async()=>{for(A++;;)try{let[a,k,R]=await fe();if(d)return R.catch(()=>{}),k();let j=h.onMessage(o,N=>{switch(N.type){case x.Next:{p.next(N.payload);return}case x.Error:{m=!0,d=!0,p.error(N.payload),f();return}case x.Complete:{d=!0,f();return}}});a.send(q({id:o,type:x.Subscribe,payload:i},z)),f=()=>{!d&&a.readyState===L.OPEN&&a.send(q({id:o,type:x.Complete},z)),A--,d=!0,k()},await R.finally(j);return}catch(a){if(!ge(a))return}})().then(()=>{m||p.complete()}).catch(a=>{p.error(a)}),()=>{d||f()}}return{on:h.on,subscribe:ye,iterate(i){let p=[],o={done:!1,error:null,resolve:()=>{}},d=ye(i,{next(f){p.push(f),o.resolve()},error(f){o.done=!0,o.error=f,o.resolve()},complete(){o.done=!0,o.resolve()}}),m=(async function*(){for(;;){for(p.length||await new Promise(a=>o.resolve=a);p.length;)yield p.shift();if(o.error)throw o.error;if(o.done)return}})();return m.throw=async f=>(o.done||(o.done=!0,o.error=f,o.resolve()),{done:!0,value:void 0}),m.return=async()=>(d(),{done:!0,value:void 0}),m},async dispose(){if(me=!0,I){let[i]=await I;i.close(1e3,"Normal Closure")}},terminate(){I&&h.emit("closed",new H)}}}var H=class extends Error{name="TerminatedCloseEvent";message="4499: Terminated";code=4499;reason="Terminated";wasClean=!1};function ae(e){return $(e)&&"code"in e&&"reason"in e}function Ue(e){return[1e3,1001,1006,1005,1012,1013,1014].includes(e)?!1:e>=1e3&&e<=1999}function je(e){return typeof e=="function"&&"constructor"in e&&"CLOSED"in e&&"CLOSING"in e&&"CONNECTING"in e&&"OPEN"in e}var Pe=4403;function $e(e,t){let n=new URL("/graphql",location.href);n.protocol=n.protocol==="https:"?"wss:":"ws:";let r=Ae({url:n.href,lazy:!1,retryAttempts:1/0,shouldRetry:u=>!(u instanceof CloseEvent&&u.code===Pe),keepAlive:3e4,on:{connecting:()=>t("connecting"),connected:()=>t("connected")}}),c=r.subscribe({query:oe.document,operationName:oe.name},{next:u=>{u.data&&e(u.data.tenantEvents);let v=u.errors?.[0];v&&t("ended",v.message)},error:u=>{u instanceof CloseEvent?t("ended",u.reason||`closed (${u.code})`,u.code===Pe):t("ended",u instanceof Error?u.message:"the subscription failed")},complete:()=>t("ended","the server ended the subscription")});return()=>{c(),r.dispose()}}var s=e=>{let t=document.getElementById(e);if(!t)throw new Error(`dashboard: #${e} is missing from index.html`);return t};function l(e,t={},...n){let r=document.createElement(e);for(let[c,u]of Object.entries(t))r.setAttribute(c,u);return r.append(...n),r}var Fe=new Intl.DateTimeFormat(void 0,{dateStyle:"medium",timeStyle:"short"}),B=e=>e?Fe.format(new Date(e)):"—",D=new Intl.NumberFormat,le=e=>l("span",{class:`status ${e}`},e);function K(e){document.body.dataset.state=e}function Ie(e){let t=s("message");t.textContent=e,t.hidden=e===""}function V(e,t,n,r){let c=s(e),u=c.querySelector(".error"),v=c.querySelector(".body");if(!(!u||!v)){if(t===null){u.textContent=n?n.message:"Not available.",u.dataset.code=n?.extensions?.code??"",u.hidden=!1,v.hidden=!0;return}u.hidden=!0,v.hidden=!1,r(t)}}function He(e,t){V("plan",e.plan,P(t,"me","plan"),n=>{s("plan-name").textContent=n.name,s("plan-name").dataset.planId=n.id;let r=new Intl.NumberFormat(void 0,{style:"currency",currency:n.currency}).format(n.monthlyPriceCents/100);s("plan-price").textContent=`${r} a month`,s("plan-rate").textContent=e.limits?`${D.format(e.limits.apiRequestsPerMinute)} API requests a minute`:""})}function Be(e,t){let n=e.usage&&e.limits?{usage:e.usage,limits:e.limits}:null;V("usage",n,P(t,"me","usage")??P(t,"me","limits"),({usage:r,limits:c})=>{let u=[["activeUsers","Active users",r.activeUsers,c.users],["policies","Policies",r.policies,c.policies],["interactions","Interactions",r.interactionsThisMonth,c.interactionsPerMonth]];s("meters").replaceChildren(...u.map(([v,X,S,T])=>{let O=l("meter",{min:"0",value:String(S)});T!==null?(O.max=Math.max(T,1),O.low=T*.8,O.high=T*.95,O.optimum=0):O.max=Math.max(S,1);let Z=T===null?`${D.format(S)} (unlimited)`:`${D.format(S)} / ${D.format(T)}`;return l("div",{class:"meter","data-usage":v,"data-used":String(S),"data-limit":T===null?"":String(T)},l("span",{},X),O,l("span",{class:"figure"},Z))}))})}function Ke(e,t){V("invoices",e.invoices,P(t,"me","invoices"),n=>{s("invoices-count").textContent=`(${D.format(n.totalCount)})`,s("invoices-count").dataset.total=String(n.totalCount),s("invoice-rows").replaceChildren(...n.nodes.map(r=>l("tr",{"data-invoice-id":r.id},l("td",{},r.number),l("td",{},r.date),l("td",{},r.dueDate),l("td",{},le(r.status)),l("td",{class:"num"},r.amount.formatted),l("td",{},l("a",{href:r.pdfUrl,target:"_blank",rel:"noopener","data-pdf":""},"PDF"))))),ue("invoices",n.nodes.length===0)})}function Je(e,t){V("api-keys",e.apiKeys,P(t,"me","apiKeys"),n=>{s("api-keys-count").textContent=`(${D.format(n.totalCount)} active)`,s("api-keys-count").dataset.total=String(n.totalCount),s("api-key-rows").replaceChildren(...n.nodes.map(r=>l("tr",{"data-api-key-id":r.id},l("td",{"data-name":""},r.name),l("td",{},l("code",{},r.prefix)),l("td",{},le(r.status)),l("td",{},B(r.createdAt)),l("td",{},B(r.lastUsedAt)),l("td",{},B(r.expiresAt))))),ue("api-keys",n.nodes.length===0)})}function Ye(e,t){V("members",e.members,P(t,"me","members"),n=>{s("members-count").textContent=`(${D.format(n.totalCount)})`,s("members-count").dataset.total=String(n.totalCount),s("member-rows").replaceChildren(...n.nodes.map(r=>l("tr",{"data-member-id":r.id},l("td",{"data-email":""},r.email),l("td",{},r.name),l("td",{},r.role),l("td",{},le(r.status)))))})}function ue(e,t){let n=s(e).querySelector(".empty");n&&(n.hidden=!t)}var Q=new Map,Le=50;function De(e,t){for(let r of e){let c=Q.get(r.id);Q.set(r.id,{event:r,live:t||(c?.live??!1)})}let n=[...Q.keys()].sort().reverse();for(let r of n.slice(Le))Q.delete(r);s("event-rows").replaceChildren(...n.slice(0,Le).map(r=>{let{event:c,live:u}=Q.get(r);return l("li",{"data-event-id":c.id,"data-wire-type":c.wireType,"data-live":String(u)},l("time",{datetime:c.at},B(c.at)),l("code",{},c.wireType),l("span",{class:"actor"},`${c.action||"—"} by ${c.actor}`))})),ue("events",Q.size===0)}function Xe(e,t){V("events",e.events,P(t,"me","events"),n=>De(n.nodes,!1))}function Ze(e,t){let n=s("live");n.dataset.live=e,n.textContent=e==="connected"?"live":e==="connecting"?"connecting…":"not live",n.title=t??"",e==="connected"&&pe()}var _=null;function et(e){let t=e.member;s("who").textContent=t?`${t.email} · ${t.role}`:e.kind,s("sign-out").hidden=!t}function J(e){_?.(),_=null,s("dashboard").hidden=!0,s("sign-out").hidden=!0,s("who").textContent="";let t=s("sign-in");t.href=`/signin?return_to=${encodeURIComponent(location.pathname)}`,s("signed-out").hidden=!1,Ie(e??""),K("signed-out")}async function Me(){let{data:e,errors:t}=await W(ve,{});if(!e)throw new Error(t[0]?.message??"The API returned nothing.");let n=e.me;s("tenant-name").textContent=n.name,s("tenant-domain").textContent=`${n.domain} · ${n.status}`,document.title=`${n.name} · Dashboard`,He(n,t),Be(n,t),Ke(n,t),Je(n,t),Ye(n,t),Xe(n,t)}var se,ce=!1,de=!1;function pe(){if(ce){de=!0;return}se===void 0&&(se=window.setTimeout(async()=>{se=void 0,ce=!0;try{await Me()}catch(e){Y(e)}finally{ce=!1,de&&(de=!1,pe())}},150))}function Y(e){if(e instanceof C){J(e.message);return}Ie(e instanceof Error?e.message:String(e))}async function tt(e){try{let{data:t}=await W(re,{});t?.viewer.kind==="ANONYMOUS"&&J(e)}catch(t){Y(t)}}async function nt(){K("loading");let{data:e}=await W(re,{}),t=e?.viewer;if(!t||t.kind==="ANONYMOUS"){J();return}et(t),await Me(),s("dashboard").hidden=!1,s("signed-out").hidden=!0,K("ready"),_=$e(n=>{De([n],!0),pe()},(n,r,c)=>{Ze(n,r),c&&tt(r)})}s("sign-out").addEventListener("click",async()=>{_?.(),_=null;try{await W(Te,{})}catch(e){e instanceof C||Y(e)}J()});nt().catch(e=>{Y(e),document.body.dataset.state==="loading"&&K("error")});})();
